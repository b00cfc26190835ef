"""The lab host's shared kernel limits."""

from __future__ import annotations

from groundwork.lab.host import HOST_LIMITS, limits_to_raise
from groundwork.plan.kernel import sysctls
from groundwork.spec.model import Backend, KubeProxyMode, Plugin


def test_only_limits_below_the_need_are_raised_and_none_lowered() -> None:
    wanted = {"fs.inotify.max_user_instances": 8192, "fs.inotify.max_user_watches": 524288}
    current = {"fs.inotify.max_user_instances": 128, "fs.inotify.max_user_watches": 1048576}
    assert limits_to_raise(current, wanted) == {"fs.inotify.max_user_instances": 8192}
    assert limits_to_raise({**current, "fs.inotify.max_user_instances": 8192}, wanted) == {}


def test_the_host_limits_are_the_nodes_own_settings() -> None:
    node = {
        s.key: s.value
        for s in sysctls(Plugin.BRIDGE, Backend.STATIC_ROUTES, KubeProxyMode.NFTABLES)
    }
    for key, value in HOST_LIMITS.items():
        assert node[key] == str(value), key
