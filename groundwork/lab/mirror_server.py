"""The mirror's HTTP server process: a threaded static file server.

Run by `lab up` as a detached process (python -m groundwork.lab.mirror_server)
bound to the lab gateway address only, so it is reachable from the lab nodes
and the host, and from nowhere else.
"""

from __future__ import annotations

import argparse
import functools
import signal
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any


class QuietHandler(SimpleHTTPRequestHandler):
    def copyfile(self, source: Any, outputfile: Any) -> None:
        # sendfile(2): the kernel copies from the page cache to the socket.
        # The lab's packages are stored uncompressed, and fifteen machines
        # fetch them at once; a Python read/write loop spent host CPU on it.
        self.connection.sendfile(source)

    # Nodes fetch hundreds of packages; one log line each is noise.
    def log_message(self, format: str, *args: object) -> None:
        if args and str(args[1] if len(args) > 1 else "").startswith(("4", "5")):
            super().log_message(format, *args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="serve the Groundwork lab mirror")
    parser.add_argument("--bind", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--root", required=True)
    args = parser.parse_args(argv)
    handler = functools.partial(QuietHandler, directory=args.root)
    server = ThreadingHTTPServer((args.bind, args.port), handler)
    server.daemon_threads = True

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
