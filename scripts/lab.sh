#!/usr/bin/env bash
# The main job: the lab stack end to end on this machine, through `pulumi up`.
# Builds the components and the Pulumi CLI and Kubernetes provider from their
# pinned Go modules (cached), creates the lab machines, then `pulumi up -s lab`
# installs Kubernetes and the addons and verifies every node; shows the
# cluster through kubectl. `groundwork up --stack lab` is the Pulumi-less door.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/groundwork build
.venv/bin/groundwork build pulumi pulumi-kubernetes
.venv/bin/groundwork lab up --stack lab
# One stack, one front door: a lab that `groundwork up` drives is reset
# through that door first (its machines are disposable).
if [[ $(.venv/bin/python -m groundwork.door lab) == groundwork ]]; then
  echo "==> the lab is driven by groundwork up: resetting it to hand it to Pulumi"
  .venv/bin/groundwork destroy --stack lab
fi
.venv/bin/groundwork pulumi up -s lab --yes --skip-preview "$@"
kubeconfig=$(.venv/bin/groundwork kubeconfig --stack lab)
kubectl=$(.venv/bin/groundwork build kubernetes -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["kubernetes"]["directory"] + "/kubectl")')
"$kubectl" --kubeconfig "$kubeconfig" get nodes -o wide
"$kubectl" --kubeconfig "$kubeconfig" get statefulsets,services,pods -A -o wide
