#!/usr/bin/env bash
# The main job: the lab stack end to end on this machine.
# Creates the lab machines, provisions them and verifies every node.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/groundwork up --stack lab "$@"
