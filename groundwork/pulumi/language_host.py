"""Groundwork's Pulumi language host: runs the project's `__main__.py` for the
Pulumi CLI, so `pulumi preview|up|refresh|destroy -s STACK` work as on any
Python project.

Why our own: upstream's host, `pulumi-language-python`, is a Go program in the
nested module `github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3`,
which the module proxy here does not serve at any version (docs/pulumi.md).
The Python SDK itself carries a language server: the one its Automation API
starts in-process for inline programs (`pulumi.automation._server`). This host
serves that server as a plugin, with the program being the project's
`__main__.py`, run in this process by `runpy` as upstream's
`pulumi-language-python-exec` runs it.

The plugin contract (pulumi's `plugin.go`): started as
`pulumi-language-python [flags] [ENGINE_ADDRESS]`, print the gRPC port on
the first line of stdout, serve until killed. Newer engines send the engine
address and the program directory in `Handshake` instead of argv.

What it does not do, unlike upstream's host: create or fill the virtualenv
(`groundwork`'s set-up does), nor list the program's plugins before it runs
(`GetRequiredPackages` answers none, so the engine loads the Kubernetes
provider when the program first uses it; automatic plugin download is off,
docs/pulumi.md).
"""

from __future__ import annotations

import os
import runpy
import sys
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
from pulumi.automation._server import LanguageServer
from pulumi.runtime.proto import language_pb2, language_pb2_grpc

ENTRY_POINT = "__main__.py"
# The engine's gRPC messages carry whole resource graphs: upstream's hosts
# raise the default 4 MB limit the same way.
MAX_MESSAGE_BYTES = 400 * 1024 * 1024


class ProgramHost(LanguageServer):
    """The SDK's in-process language server, running a program from disk."""

    def __init__(self, engine_address: str) -> None:
        super().__init__(self._run_entry_point)
        self.engine_address = engine_address
        self.entry_point = Path(ENTRY_POINT)

    def Handshake(self, request: Any, context: Any) -> Any:
        if request.engine_address:
            self.engine_address = request.engine_address
        return language_pb2.LanguageHandshakeResponse()

    def Run(self, request: Any, context: Any) -> Any:
        directory = Path(request.info.program_directory or request.pwd or os.getcwd())
        entry = request.info.entry_point or "."
        self.entry_point = directory / (ENTRY_POINT if entry == "." else entry)
        if str(directory) not in sys.path:
            sys.path.insert(0, str(directory))
        os.chdir(request.pwd or directory)
        # The SDK's server reads the engine address from the program's
        # arguments, where the Automation API puts it.
        forwarded = language_pb2.RunRequest()
        forwarded.CopyFrom(request)
        del forwarded.args[:]
        forwarded.args.append(self.engine_address)
        return super().Run(forwarded, context)  # type: ignore[no-untyped-call]

    def _run_entry_point(self) -> None:
        if not self.entry_point.is_file():
            raise FileNotFoundError(f"no Pulumi program at {self.entry_point}")
        runpy.run_path(str(self.entry_point), run_name="__main__")


def engine_address(argv: list[str]) -> str:
    """The engine's address: the last argument that is not a flag (pure).

    The engine passes flags such as `-root DIR` or `-tracing URL` before it;
    their values are skipped with them."""
    address = ""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg.startswith("-"):
            skip = "=" not in arg and arg.lstrip("-") in VALUED_FLAGS
        else:
            address = arg
    return address


# Flags of upstream's host that take a value (its main.go).
VALUED_FLAGS = frozenset({"root", "tracing", "virtualenv", "toolchain", "typechecker", "binary"})


def main() -> None:
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=4),
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ],
    )
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(
        ProgramHost(engine_address(sys.argv[1:])), server
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    try:
        server.wait_for_termination()
    except KeyboardInterrupt:
        # The engine's way to end a plugin when the operation is over.
        server.stop(grace=None)


if __name__ == "__main__":
    main()
