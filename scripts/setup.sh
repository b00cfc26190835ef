#!/usr/bin/env bash
# Install everything Groundwork needs on a fresh Debian (bookworm) machine,
# as root: host packages (scripts/host-packages.txt), a virtualenv in .venv
# with the pinned Python dependencies. Safe to re-run: it skips what is done.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) -ne 0 ]]; then
  echo "error: run as root (the lab creates machines with podman and networks)" >&2
  exit 1
fi

packages=(python3 python3-venv python3-pip git)
if [[ -f scripts/host-packages.txt ]]; then
  mapfile -t listed < <(grep -v '^\s*#' scripts/host-packages.txt | sed '/^\s*$/d')
  packages+=("${listed[@]}")
fi
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "==> installing host packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The venv is rebuilt only when the pinned dependencies change.
stamp=.venv/.groundwork-deps
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [[ ! -x .venv/bin/python || ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  echo "==> installing Python dependencies into .venv"
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -U pip
  .venv/bin/pip install -q --disable-pip-version-check -e '.[dev]'
  echo "$want" >"$stamp"
fi

# Groundwork's own modules compiled once: where PYTHONDONTWRITEBYTECODE is
# set (as on some CI runners) Python would otherwise compile them again on
# every command, 0.15 s of each.
.venv/bin/python -m compileall -q groundwork plugins >/dev/null
