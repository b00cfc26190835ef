#!/usr/bin/env bash
# The whole test suite: lint, types, unit tests, Pulumi mocks, ansible-lint,
# and the lab integration tests (real systemd machines on podman).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

echo "==> ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "==> mypy"
.venv/bin/mypy
echo "==> pytest"
exec .venv/bin/pytest "$@"
