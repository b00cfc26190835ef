"""Create the Secrets encryption key file once: 32 random bytes, base64, mode 0600.

Run on the controller by the control_plane role (with `creates:`), so an
existing key is never replaced: replacing it would make every Secret
already stored unreadable. The key is never printed.
"""

import base64
import os
import sys

path = sys.argv[1]
os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
with os.fdopen(fd, "wb") as handle:
    handle.write(base64.b64encode(os.urandom(32)) + b"\n")
