#!/usr/bin/env bash
# Container start figures for jctrd beside Debian's containerd, in the same run, with the same
# busybox image (built here from busybox-static) and real runc:
#   - `run --rm busybox /bin/true` end to end, p50 (and max) of N runs:
#       containerd + ctr (runtime io.containerd.runc.v2, its default),
#       jctrd + ctr --runtime io.containerd.jctr.v2 (jctr's shim), jctrd + ctr with the runc
#       shim, and jctrd + `jctr run` (jctr's CLI and shim, the default);
#   - N detached containers started back to back (ctr run -d, each daemon with its default
#     shim), total time;
#   - shim memory per container at that point: RSS and PSS of every shim process, summed,
#     divided by N (containerd-shim-runc-v2: one per container; jctr's: one per namespace).
# Each timed series follows WARMUP untimed runs of the same command (the JVM shim compiles its
# hot paths over its first runs; it lives long, so steady state is what a node sees).
# Usage: bench/run-bench.sh [N] [WARMUP]   (as root; default 20 and 5)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20}
warmup=${2:-5}
scripts/install-deps.sh
scripts/prepare-cgroups.sh || true # the host layout the tests use (crun accepts it)
dist=$PWD/distribution/target/jctr-0.1.0/jctr-0.1.0
if [ ! -x "$dist/bin/jctrd" ]; then
  scripts/build.sh package -DskipTests -q
fi
work=$(mktemp -d /tmp/jctr-run-bench.XXXXXX)
containerd_pid="" jctrd_pid=""
cleanup() {
  for sock in "$work/containerd/containerd.sock" "$work/jctrd/jctrd.sock"; do
    [ -S "$sock" ] || continue
    for id in $(ctr --address "$sock" tasks ls -q 2>/dev/null); do
      ctr --address "$sock" tasks kill -s 9 "$id" >/dev/null 2>&1 || true
    done
    sleep 0.5
    for id in $(ctr --address "$sock" containers ls -q 2>/dev/null); do
      ctr --address "$sock" tasks rm "$id" >/dev/null 2>&1 || true
      ctr --address "$sock" containers rm "$id" >/dev/null 2>&1 || true
    done
  done
  [ -n "$containerd_pid" ] && kill "$containerd_pid" 2>/dev/null && wait "$containerd_pid" 2>/dev/null || true
  [ -n "$jctrd_pid" ] && kill "$jctrd_pid" 2>/dev/null && wait "$jctrd_pid" 2>/dev/null || true
  # jctr's shim of this run (it would leave by itself after its idle time)
  for pidfile in "$work"/jctrd/state/s/*.pid; do
    [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
  grep -o "$work[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

scripts/build-busybox-image.sh "$work/busybox.tar" >/dev/null
image=docker.io/library/busybox:latest

mkdir -p "$work/containerd"
echo 'version = 2' >"$work/containerd/config.toml"
containerd --config "$work/containerd/config.toml" --root "$work/containerd/root" \
  --state "$work/containerd/state" --address "$work/containerd/containerd.sock" \
  >"$work/containerd/log" 2>&1 &
containerd_pid=$!
mkdir -p "$work/jctrd"
"$dist/bin/jctrd" --root "$work/jctrd/root" --state "$work/jctrd/state" \
  --address "$work/jctrd/jctrd.sock" >"$work/jctrd/log" 2>&1 &
jctrd_pid=$!
C=(ctr --address "$work/containerd/containerd.sock")
J=(ctr --address "$work/jctrd/jctrd.sock")
JCTR=("$dist/bin/jctr" --address "$work/jctrd/jctrd.sock")
for _ in $(seq 1 200); do
  "${C[@]}" version >/dev/null 2>&1 && "${J[@]}" images ls >/dev/null 2>&1 && break
  sleep 0.1
done
"${C[@]}" images import "$work/busybox.tar" >/dev/null
"${J[@]}" images import "$work/busybox.tar" >/dev/null
"${JCTR[@]}" run --rm busybox warm-cli /bin/true # the CLI's class cache, the shim's first start

ms() { echo $(( $(date +%s%N) / 1000000 )); }
# p50 and max of the durations (ms) on stdin
stats() { sort -n | awk '{a[NR]=$1} END {printf "p50 %4d ms  max %4d ms", a[int((NR+1)/2)], a[NR]}'; }

time_runs() { # key, label, then the command with ID where the container id goes
  local key=$1 label=$2; shift 2
  local times=()
  for i in $(seq 1 "$warmup"); do # not timed: JIT warm-up of a long-lived JVM shim
    local args=("${@//ID/w$i}")
    "${args[@]}" >/dev/null
  done
  for i in $(seq 1 "$n"); do
    local args=("${@//ID/b$i}")
    local t0; t0=$(ms)
    "${args[@]}" >/dev/null
    times+=($(( $(ms) - t0 )))
  done
  printf '%-52s %s\n' "$label" "$(printf '%s\n' "${times[@]}" | stats)"
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}' \
    >"$work/p50-$key"
}

echo "run --rm busybox /bin/true, $n runs each (after $warmup untimed):"
time_runs containerd "containerd+ctr (runc shim)" "${C[@]}" run --rm "$image" ID /bin/true
time_runs jctr-shim "jctrd+ctr (jctr shim)" "${J[@]}" run --rm --runtime io.containerd.jctr.v2 "$image" ID /bin/true
time_runs runc-shim "jctrd+ctr (runc shim)" "${J[@]}" run --rm --runtime io.containerd.runc.v2 "$image" ID /bin/true
time_runs jctr-cli "jctrd+jctr-cli (jctr shim)" "${JCTR[@]}" run --rm busybox ID /bin/true
c=$(cat "$work/p50-containerd"); j=$(cat "$work/p50-jctr-shim"); k=$(cat "$work/p50-jctr-cli")
awk -v c="$c" -v j="$j" -v k="$k" 'BEGIN {printf "ratio jctrd/containerd (same client, ctr): %.2f   (jctr CLI: %.2f)\n", j/c, k/c}'

pss_rss() { # pids... -> "rss_kib pss_kib" summed
  local rss=0 pss=0
  for pid in "$@"; do
    r=$(awk '/^Rss:/ {print $2}' "/proc/$pid/smaps_rollup")
    p=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup")
    rss=$(( rss + r )); pss=$(( pss + p ))
  done
  echo "$rss $pss"
}

echo
echo "$n detached containers started back to back (ctr run -d):"
t0=$(ms)
for i in $(seq 1 "$n"); do "${C[@]}" run -d "$image" d$i sleep 1000 >/dev/null; done
cd_ms=$(( $(ms) - t0 ))
t0=$(ms)
for i in $(seq 1 "$n"); do "${J[@]}" run -d --runtime io.containerd.jctr.v2 "$image" d$i sleep 1000 >/dev/null; done
jd_ms=$(( $(ms) - t0 ))
printf '%-52s %6d ms\n' "containerd (runc shim)" "$cd_ms" "jctrd (jctr shim)" "$jd_ms"

runc_shims=$(pgrep -f "containerd-shim-runc-v2 .*-address $work/containerd/containerd.sock" || true)
jctr_shims=$(for f in "$work"/jctrd/state/s/*.pid; do cat "$f"; echo; done)
read -r c_rss c_pss <<<"$(pss_rss $runc_shims)"
read -r j_rss j_pss <<<"$(pss_rss $jctr_shims)"
echo
echo "shim memory per container ($n running):"
printf '%-52s RSS %6d KiB  PSS %6d KiB  (%d shim processes)\n' \
  "containerd-shim-runc-v2" $(( c_rss / n )) $(( c_pss / n )) $(echo $runc_shims | wc -w) \
  "containerd-shim-jctr-v2" $(( j_rss / n )) $(( j_pss / n )) $(echo $jctr_shims | wc -w)
awk -v c="$c_pss" -v j="$j_pss" 'BEGIN {printf "ratio PSS jctr/runc: %.2f\n", j/c}'
