"""Probe containers for the pod network check: real containers started by
containerd (`ctr run --cni`) with the node's CNI config.

The rootfs is an empty directory with the node's /usr bind-mounted read-only
(Debian's merged /usr gives bin, sbin and lib through symlinks), so no image
and no registry are needed. `ctr run --rm --cni` stays in the foreground
(detached with setsid): when the probe's sleep ends or it is killed, ctr
itself removes the CNI attachment (IPAM lease, veth) and the container.
Probes live in their own containerd namespace and are named after the verify
run; a probe of an earlier run is killed before a new one starts.
"""

from __future__ import annotations

NAMESPACE = "groundwork-verify"
ROOTFS = "/var/lib/groundwork-verify/rootfs"
LOCK = "/run/groundwork-verify.lock"
LIFETIME = 120  # seconds; a verify run ends long before

# $1: run id. Prints "ip=<address>" of the probe's eth0, or fails with a reason.
ENSURE = rf"""
set -eu
RUN="$1"; ID="gwv-$RUN"; NS={NAMESPACE}; R={ROOTFS}
# ctr waits for a containerd that is down or wedged without end; every call
# gets a deadline, and a probe is not even tried without a running containerd.
ctr() {{ timeout 10 /usr/local/bin/ctr "$@"; }}
systemctl is-active --quiet containerd || {{ echo "containerd is not running on this node: no probe container" >&2; exit 1; }}
exec 9>{LOCK}
flock -w 15 9 || {{ echo "probe lock {LOCK} held for 15 s by: $(fuser {LOCK} 2>&1)" >&2; exit 1; }}
mkdir -p "$R/usr" "$R/proc" "$R/dev" "$R/sys" "$R/tmp" "$R/run" "$R/etc"
for l in bin sbin lib lib64; do [ -e "$R/$l" ] || [ -L "$R/$l" ] || ln -s "usr/$l" "$R/$l"; done
for c in $(ctr -n $NS tasks ls -q 2>/dev/null); do
  [ "$c" = "$ID" ] || ctr -n $NS tasks kill -s SIGKILL "$c" >/dev/null 2>&1 || true
done
for f in /run/groundwork-verify-gwv-*; do
  case "$f" in /run/groundwork-verify-$ID.*|*"*") ;; *) rm -f "$f";; esac
done
# A probe that failed to start in this run fails every later caller at once.
[ -s "/run/groundwork-verify-$ID.failed" ] && {{ cat "/run/groundwork-verify-$ID.failed" >&2; exit 1; }}
pid_of() {{ ctr -n $NS tasks ls 2>/dev/null | awk -v id="$ID" '$1==id && $3=="RUNNING" {{print $2}}'; }}
if [ -z "$(pid_of)" ]; then
  # A stopped leftover of this run (or a stale container record) is removed first.
  ctr -n $NS tasks rm -f "$ID" >/dev/null 2>&1 || true
  ctr -n $NS containers rm "$ID" >/dev/null 2>&1 || true
  setsid -f ctr -n $NS run --rm --cni \
    --mount type=bind,src=/usr,dst=/usr,options=rbind:ro \
    --rootfs "$R" "$ID" /usr/bin/sleep {LIFETIME} </dev/null >/run/groundwork-verify-$ID.log 2>&1 9>&-
fi
i=0
while :; do
  PID=$(pid_of)
  if [ -n "$PID" ]; then
    IP=$(nsenter -t "$PID" -n ip -4 -o addr show dev eth0 2>/dev/null | awk '{{print $4}}' | cut -d/ -f1)
    [ -n "$IP" ] && break
  fi
  i=$((i+1))
  if [ $i -gt 80 ]; then
    echo "probe container did not start: $(tail -n 3 /run/groundwork-verify-$ID.log 2>/dev/null)" \
      | tee "/run/groundwork-verify-$ID.failed" >&2
    exit 1
  fi
  sleep 0.1
done
echo "ip=$IP"
"""

# $1: run id, then destination addresses. Prints "<address> ok|fail" per line.
REACH = rf"""
set -u
ID="gwv-$1"; shift
# ctr waits for a containerd that is down or wedged without end; every call
# gets a deadline, and a probe is not even tried without a running containerd.
ctr() {{ timeout 10 /usr/local/bin/ctr "$@"; }}
for dst in "$@"; do
  # One subshell per destination, all at once. Absolute paths: an exec'd
  # process gets no PATH from ctr.
  (
  r=fail
  # Up to 3 tries: a single lost first packet (ARP under load) is not a broken path.
  for try in 1 2 3; do
    if [ -x /usr/bin/ping ]; then
      ctr -n {NAMESPACE} tasks exec --exec-id "reach-$$-$dst-$try" "$ID" /usr/bin/ping -c 1 -W 1 "$dst" >/dev/null 2>&1 && r=ok
    else
      # No ping on the node: a TCP connect answered by the peer's kernel
      # (refused) proves the path as well; a timeout does not.
      out=$(ctr -n {NAMESPACE} tasks exec --exec-id "reach-$$-$dst-$try" "$ID" /usr/bin/timeout 2 /usr/bin/bash -c "</dev/tcp/$dst/9" 2>&1) && r=ok
      case "$out" in *refused*) r=ok;; esac
    fi
    [ $r = ok ] && break
  done
  echo "$dst $r"
  ) &
done
wait
"""

# $1: run id. Stops this run's probe (ctr then removes its network and container).
STOP = rf"""
ID="gwv-$1"
# ctr waits for a containerd that is down or wedged without end; every call
# gets a deadline, and a probe is not even tried without a running containerd.
ctr() {{ timeout 10 /usr/local/bin/ctr "$@"; }}
ctr -n {NAMESPACE} tasks kill -s SIGKILL "$ID" >/dev/null 2>&1 || true
rm -f "/run/groundwork-verify-$ID.failed" "/run/groundwork-verify-$ID.log"
"""
