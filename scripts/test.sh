#!/usr/bin/env bash
# The whole test suite: lint, types, unit tests, Pulumi mocks, ansible-lint,
# the lab integration tests (real systemd machines on podman), then a lab
# rebuild (destroy -> up -> verify) with a JUnit report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

echo "==> ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "==> mypy"
.venv/bin/mypy
echo "==> pytest"
.venv/bin/pytest "$@"
# CI proves "rebuild the cluster from CI" on every change: the lab stack is
# reset, provisioned again and verified, with one JUnit report.
echo "==> groundwork rebuild --stack lab"
mkdir -p reports
.venv/bin/groundwork rebuild --stack lab --junit reports/rebuild-lab.xml
