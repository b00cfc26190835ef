#!/usr/bin/env bash
# The whole test suite: lint, types, unit tests, Pulumi mocks, ansible-lint,
# and the lab integration tests (real systemd machines on podman), a lab
# rebuild (destroy -> up -> verify) with a JUnit report among them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

echo "==> ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "==> mypy"
.venv/bin/mypy
# The components the lab serves, built from their pinned Go modules (32 min
# on 2 cores with empty Go caches; seconds once cached). The Pulumi CLI and
# its Kubernetes provider are built only when named: no test uses them yet.
echo "==> build"
.venv/bin/groundwork build
echo "==> pytest"
# tests/lab/test_reset_lab.py runs `groundwork rebuild --stack lab --junit`
# (destroy -> up -> verify): CI proves a rebuild from CI on every change.
exec .venv/bin/pytest "$@"
