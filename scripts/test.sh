#!/usr/bin/env bash
# The whole test suite: lint, types, unit tests, Pulumi mocks, ansible-lint,
# and the lab integration tests (real systemd machines on podman), a lab
# rebuild (destroy -> up -> verify) with a JUnit report among them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

# The main job leaves the lab to Pulumi; the lab tests drive it through
# `groundwork up` (and tests/pulumi_up hands it to Pulumi and back at the end).
if [[ $(.venv/bin/python -m groundwork.door lab) == pulumi ]]; then
  echo "==> the lab is driven by pulumi up: resetting it to hand it to groundwork up"
  # Its machines may be off (the session that ran the main job was killed):
  # power them on with their disks first. Objects of a cluster that does not
  # answer yet are dropped from the Pulumi state, not deleted: the reset that
  # follows clears the nodes anyway.
  .venv/bin/groundwork lab up --stack lab
  PULUMI_K8S_DELETE_UNREACHABLE=true .venv/bin/groundwork pulumi destroy -s lab --yes
fi
# What only some tests need, built in the background at the lowest priority
# from here on: kube-bench first, which tests/lab/test_cis.py (the first lab
# module) runs on the lab's nodes, then the Pulumi CLI and its Kubernetes
# provider (about 10 min on 2 cores from an empty Go build cache), then
# flannel (about 4 min), which the flannel lab stacks build on demand. Their
# module downloads overlap the lint and the components' build, their
# compiling takes the cores the lab tests leave idle. tests/network and
# tests/pulumi_up, which run after every lab module, and test_cis wait for
# it (a build holds the component's lock: the test's own build waits, then
# finds it cached).
background_log=$(mktemp -t groundwork-background-build.XXXXXX)
echo "==> build kube-bench pulumi pulumi-kubernetes flannel flannel-cni (background, log: $background_log)"
setsid nice -n 19 .venv/bin/groundwork build kube-bench pulumi pulumi-kubernetes flannel flannel-cni \
  >"$background_log" 2>&1 &
background_build=$!
# A run that stops early, or selected no Pulumi test, does not wait for it.
trap 'kill -- -"$background_build" 2>/dev/null || true' EXIT
echo "==> ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "==> mypy"
.venv/bin/mypy
# The components the lab serves, built from their pinned Go modules (about
# 35 min on 2 cores with empty Go caches; seconds once cached).
echo "==> build"
.venv/bin/groundwork build
echo "==> pytest"
# tests/lab/test_reset_lab.py runs `groundwork rebuild --stack lab --junit`
# (destroy -> up -> verify): CI proves a rebuild from CI on every change.
.venv/bin/pytest "$@"
