"""Which images cached on a lab node the lab's registry has replaced (pure)."""

from __future__ import annotations

from groundwork.lab.stale_images import stale

BUSYBOX = "registry.k8s.io/e2e-test-images/busybox:1.37.0-1"
PAUSE = "registry.k8s.io/pause:3.10.2"


def crictl_images(*images: tuple[list[str], list[str]]) -> dict[str, object]:
    """`crictl images -o json` as a node prints it."""
    return {"images": [{"repoTags": tags, "repoDigests": digests} for tags, digests in images]}


def test_a_tag_whose_cached_digest_is_not_the_registrys_is_stale() -> None:
    listed = crictl_images(
        ([BUSYBOX], ["registry.k8s.io/e2e-test-images/busybox@sha256:old"]),
        ([PAUSE], ["registry.k8s.io/pause@sha256:same"]),
        # An image the registry does not serve is the node's own business.
        (["docker.io/library/other:1"], ["docker.io/library/other@sha256:x"]),
        # An untagged leftover has no tag to drop.
        ([], ["registry.k8s.io/e2e-test-images/busybox@sha256:older"]),
    )
    digests = {BUSYBOX: "sha256:new", PAUSE: "sha256:same"}
    assert stale(listed, digests) == [BUSYBOX]
    assert stale(listed, {BUSYBOX: "sha256:old", PAUSE: "sha256:same"}) == []
    assert stale({}, digests) == []
