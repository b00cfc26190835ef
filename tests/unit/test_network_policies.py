"""NetworkPolicies declared in the stack: validated with their config paths,
rendered as networking.k8s.io/v1 objects with the workloads, and warned
about when the plugin does not enforce them."""

from __future__ import annotations

from _stacks import declared, problems

from groundwork.manifests.workloads import network_policy, workloads
from groundwork.plan import build_plan
from groundwork.spec import load_stack, parse_cluster
from groundwork.spec.rules import warnings


def test_prods_policy_renders_as_the_kubernetes_object() -> None:
    spec = load_stack("prod")
    assert network_policy(spec.network_policies[0]) == {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": "postgres-from-uploads",
            "namespace": "data",
            "labels": {"app.kubernetes.io/managed-by": "groundwork"},
        },
        "spec": {
            "podSelector": {"matchLabels": {"app": "postgres"}},
            "ingress": [
                {
                    "from": [
                        {
                            "podSelector": {"matchLabels": {"app": "uploads"}},
                            "namespaceSelector": {
                                "matchLabels": {"kubernetes.io/metadata.name": "web"}
                            },
                        }
                    ],
                    "ports": [{"protocol": "TCP", "port": 5432}],
                }
            ],
            "policyTypes": ["Ingress"],
        },
    }


def test_an_empty_list_denies_a_direction_and_its_namespace_is_made() -> None:
    spec = load_stack("lab-bgp")
    objects = workloads(spec, build_plan(spec))
    deny = next(o for o in objects if o["kind"] == "NetworkPolicy")
    assert deny["spec"] == {
        "podSelector": {"matchLabels": {}},
        "ingress": [],
        "policyTypes": ["Ingress"],
    }
    assert {"kind": "Namespace", "name": "apps"} in [
        {"kind": o["kind"], "name": o["metadata"]["name"]} for o in objects
    ]


def test_egress_to_an_address_range_with_exceptions() -> None:
    cluster = declared("lab")
    cluster["networkPolicies"] = [
        {
            "name": "out",
            "egress": [
                {
                    "to": [{"ipBlock": {"cidr": "192.0.2.0/24", "except": ["192.0.2.8/29"]}}],
                    "ports": [{"protocol": "UDP", "port": 53}],
                }
            ],
        }
    ]
    policy = parse_cluster(cluster).network_policies[0]
    assert network_policy(policy)["spec"]["egress"] == [
        {
            "to": [{"ipBlock": {"cidr": "192.0.2.0/24", "except": ["192.0.2.8/29"]}}],
            "ports": [{"protocol": "UDP", "port": 53}],
        }
    ]
    assert network_policy(policy)["spec"]["policyTypes"] == ["Egress"]


def test_every_malformed_policy_is_named_at_once() -> None:
    cluster = declared("lab")
    cluster["networkPolicies"] = [
        {"name": "nothing"},
        {
            "name": "both",
            "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}]}],
        },
        {"name": "empty-peer", "egress": [{"to": [{}]}]},
        {"name": "nothing", "ingress": []},
    ]
    found = problems(cluster)
    assert any(
        p.startswith("cluster.networkPolicies[0]:") and "give ingress, egress" in p for p in found
    )
    assert any(
        p.startswith("cluster.networkPolicies[1].ingress[0].from[0]") and "not both" in p
        for p in found
    )
    assert any(
        p.startswith("cluster.networkPolicies[2].egress[0].to[0]") and "needs podSelector" in p
        for p in found
    )
    assert len(found) == 3, found  # the duplicate name is judged once the shapes are valid


def test_a_duplicate_policy_is_refused_naming_the_first() -> None:
    cluster = declared("lab")
    cluster["networkPolicies"] = [
        {"name": "deny", "ingress": []},
        {"name": "deny", "egress": []},
    ]
    assert problems(cluster) == [
        "cluster.networkPolicies[1].name: duplicate of cluster.networkPolicies[0] (default/deny)"
    ]


def test_validate_warns_when_the_plugin_does_not_enforce_policies() -> None:
    bgp = [str(w) for w in warnings(load_stack("lab-bgp"))]
    assert (
        "cluster.networkPolicies: bridge bgp does not enforce NetworkPolicy: the 1 declared "
        "policy is applied but filters nothing; calico, cilium and kube-router enforce them "
        "(none has run on Groundwork's lab yet: docs/network.md)"
    ) in bgp
    # calico enforces prod's; a stack without policies has nothing to warn of.
    assert not [w for w in warnings(load_stack("prod")) if "networkPolicies" in str(w)]
    assert not [w for w in warnings(load_stack("lab")) if "networkPolicies" in str(w)]
