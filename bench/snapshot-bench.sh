#!/usr/bin/env bash
# Snapshot figures for jctrd beside Debian's containerd, both with their overlayfs snapshotter,
# in the same run on temporary roots, through the same client (Debian's ctr): Prepare+Commit of
# a chain of N layers (default 50), then Mounts of the top; p50 over rounds, and the ratio.
# Usage: bench/snapshot-bench.sh [depth] [rounds]   (as root; default 50 layers, 5 rounds)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
depth=${1:-50}
rounds=${2:-5}
dist=distribution/target/jctr-0.1.0/jctr-0.1.0
if [ ! -x "$dist/bin/jctrd" ]; then
  scripts/build.sh package -DskipTests -q
fi
work=$(mktemp -d /tmp/jctr-snapshot-bench-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

await_socket() { # socket
  for _ in $(seq 1 300); do
    ctr --address "$1" version >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "no daemon on $1" >&2; return 1
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# prints "<chain ms p50> <mounts ms p50>" for the daemon on $1
measure() {
  local address=$1 chains=() mounts=()
  ctr --address "$address" snapshots ls >/dev/null 2>&1 || sleep 2 # snapshotter still starting
  for round in $(seq 1 "$rounds"); do
    local parent="" start end
    start=$(now_ms)
    for i in $(seq 1 "$depth"); do
      ctr --address "$address" snapshots prepare "r$round-a$i" $parent
      ctr --address "$address" snapshots commit "r$round-c$i" "r$round-a$i"
      parent="r$round-c$i"
    done
    end=$(now_ms)
    chains+=($((end - start)))
    ctr --address "$address" snapshots prepare "r$round-top" "$parent"
    start=$(now_ms)
    ctr --address "$address" snapshots mounts /mnt "r$round-top" >/dev/null
    end=$(now_ms)
    mounts+=($((end - start)))
  done
  echo "$(printf '%s\n' "${chains[@]}" | median) $(printf '%s\n' "${mounts[@]}" | median)"
}

mkdir -p "$work/jctrd" "$work/containerd"
"$dist/bin/jctrd" --root "$work/jctrd/root" --state "$work/jctrd/state" \
  --address "$work/jctrd/jctrd.sock" --log-level warn >"$work/jctrd/log" 2>&1 &
pids+=($!)
printf 'version = 2\n' >"$work/containerd/config.toml"
containerd --config "$work/containerd/config.toml" --root "$work/containerd/root" \
  --state "$work/containerd/state" --address "$work/containerd/containerd.sock" \
  --log-level warn >"$work/containerd/log" 2>&1 &
pids+=($!)
await_socket "$work/jctrd/jctrd.sock"
await_socket "$work/containerd/containerd.sock"

read -r j_chain j_mounts < <(measure "$work/jctrd/jctrd.sock")
read -r c_chain c_mounts < <(measure "$work/containerd/containerd.sock")
awk -v d="$depth" -v jc="$j_chain" -v jm="$j_mounts" -v cc="$c_chain" -v cm="$c_mounts" 'BEGIN {
  printf "%-11s %26s %18s %18s\n", "daemon", "prepare+commit x" d " ms", "per layer ms", "mounts(top) ms"
  printf "%-11s %26.0f %18.1f %18.0f\n", "jctrd", jc, jc / d, jm
  printf "%-11s %26.0f %18.1f %18.0f\n", "containerd", cc, cc / d, cm
  printf "ratio jctrd/containerd: chain %.2f, mounts %.2f\n", jc / cc, jm / cm
}'
echo "(p50 of $rounds rounds; every call through Debian's ctr, so both include its start-up;" \
  "$(nproc) CPUs; $(ctr --version))"
