"""Pod MTU: what is left of the node MTU after the backend's encapsulation.

Too large a pod MTU makes encapsulated packets exceed the node MTU: they are
fragmented or, with DF set (most TCP), silently dropped (small requests
work, large responses hang). The overhead table lives with the model
(`ENCAPSULATION_OVERHEAD`) because validation uses it too.
"""

from __future__ import annotations

from groundwork.spec.model import ENCAPSULATION_OVERHEAD, Backend, Plugin


def overhead(plugin: Plugin, backend: Backend) -> int:
    """Bytes of encapsulation per packet (0 for routed backends)."""
    return ENCAPSULATION_OVERHEAD[(plugin, backend)]


def pod_mtu(node_mtu: int, plugin: Plugin, backend: Backend) -> int:
    """The MTU to give pod interfaces (and the CNI's own devices)."""
    return node_mtu - overhead(plugin, backend)
