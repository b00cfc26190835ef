#!/usr/bin/env bash
# The main job: the lab stack end to end on this machine.
# Builds the components from their pinned Go modules (cached), creates the
# lab machines, installs Kubernetes and the addons, verifies every node, and
# shows the cluster through kubectl.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/groundwork build
.venv/bin/groundwork up --stack lab "$@"
kubeconfig=$(.venv/bin/groundwork kubeconfig --stack lab)
kubectl=$(.venv/bin/groundwork build kubernetes -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["kubernetes"]["directory"] + "/kubectl")')
"$kubectl" --kubeconfig "$kubeconfig" get nodes -o wide
"$kubectl" --kubeconfig "$kubeconfig" get pods -A -o wide
