"""The lab: the lab stack's machines on this host, and their offline artifact mirror.

`up`, `down`, `replace` and `status` are the entry points both front doors call;
`groundwork.lab.ssh.connection_files(spec)` gives the key and the pinned
known_hosts that Ansible and testinfra use to reach the nodes.
"""

from groundwork.lab.errors import LabError
from groundwork.lab.lifecycle import down, leftovers, replace, up
from groundwork.lab.state import LabState, NodeState
from groundwork.lab.status import status

__all__ = ["LabError", "LabState", "NodeState", "down", "leftovers", "replace", "status", "up"]
