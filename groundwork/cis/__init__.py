"""The CIS Kubernetes Benchmark on a stack's nodes, run by kube-bench.

benchmark: what to ask kube-bench (targets, override config, adaptations,
what cannot apply and why) (pure); source: its definitions from the pinned
module; report: its JSON read per node (pure); run: over SSH on every node.
"""
