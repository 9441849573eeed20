#!/usr/bin/env bash
# CRI pod-start figures for jctrd beside Debian's containerd (its built-in CRI), in the same
# run, with the same pause and busybox images (built here), the same CNI plugins (Debian's
# bridge + host-local + portmap, one bridge per daemon) and real runc:
#   - N pods with one busybox container each (RunPodSandbox, CreateContainer, StartContainer),
#     started as a batch by P kubelet-like workers: total time, per-pod p50 and p99;
#   - at steady state: the daemon's RSS, and the summed PSS of all its shim processes
#     (containerd: one containerd-shim-runc-v2 per pod; jctrd: a jctr shim per pod slot);
#   - the teardown (StopPodSandbox + RemovePodSandbox of every pod).
# Before the images are imported each daemon is asked for Version and Status, as a kubelet
# registering its node does (jctrd starts its pod shims then).
# Usage: bench/cri-bench.sh [N] [P] [R]   (as root; default 105 pods, 10 workers, 3 rounds:
# each round runs both daemons, each on a fresh daemon, containerd first in odd rounds and
# jctrd first in even ones; a batch starts once the machine is quiet; the summary is the median)
# CRI_BENCH_ONLY=jctrd|containerd measures one daemon only (while working on one);
# CRI_BENCH_THREADS=1 also prints the busiest threads of jctrd and its shims;
# CRI_BENCH_DIST=<dir> measures another jctr distribution (unpacked) than this build's;
# CRI_BENCH_LOGS=<dir> keeps each daemon's log there (r<round>-<daemon>.log);
# CRI_BENCH_PERF=<prefix> records a system-wide perf profile of each daemon's batch
# (<prefix>-containerd, <prefix>-jctrd; `perf report -i FILE --sort comm` compares them).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-105}
workers=${2:-10}
rounds=${3:-3}
scripts/install-deps.sh
. scripts/find-java.sh
jctr_find_java
dist=${CRI_BENCH_DIST:-$PWD/distribution/target/jctr-0.1.0/jctr-0.1.0}
if [ ! -x "$dist/bin/jctrd" ]; then
  scripts/build.sh package -DskipTests -q
fi
work=$(mktemp -d /tmp/jctr-cri-bench.XXXXXX)
containerd_pid="" jctrd_pid=""
# the kubelet stand-in runs C1 only: its own compilations (C2 took ~2 s of CPU per batch)
# compete with the daemon measured
bench() { "$JCTR_JAVA_HOME/bin/java" -XX:TieredStopAtLevel=1 -cp "$dist/lib/cli/*" bench/CriBench.java "$@"; }
cleanup() {
  for sock in "$work"/r*/containerd/containerd.sock "$work"/r*/jctrd/jctrd.sock; do
    [ -S "$sock" ] && bench teardown "$sock" 0 "$workers" "$work/logs" x >/dev/null 2>&1 || true
  done
  [ -n "$containerd_pid" ] && kill "$containerd_pid" 2>/dev/null && wait "$containerd_pid" 2>/dev/null || true
  [ -n "$jctrd_pid" ] && kill "$jctrd_pid" 2>/dev/null && wait "$jctrd_pid" 2>/dev/null || true
  local shim_pids=""
  for pidfile in "$work"/r*/jctrd/state/s/*.pid; do
    [ -f "$pidfile" ] && shim_pids+=" $(cat "$pidfile")"
  done
  for pid in $shim_pids; do kill "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 50); do # the state tmpfs stays busy until they are gone
    alive=""
    for pid in $shim_pids; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ -z "$alive" ] && break
    sleep 0.1
  done
  for d in "$work" $short_dirs; do
    for m in $(grep -o "$d[^ ]*" /proc/self/mounts | sort -r); do
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done
  done
  for d in $short_dirs; do rm -rf "$d"; done
  ip link del jctrbench1 2>/dev/null || true
  ip link del jctrbench2 2>/dev/null || true
  for c in /sys/fs/cgroup/*/jctr-bench; do
    [ -d "$c" ] && rmdir "$c"/* "$c" 2>/dev/null || true
  done
  if [ -n "${CRI_BENCH_LOGS:-}" ]; then
    for log in "$work"/r*/*/log; do
      [ -f "$log" ] && mkdir -p "$CRI_BENCH_LOGS" && cp "$log" \
        "$CRI_BENCH_LOGS/$(basename "$(dirname "$(dirname "$log")")")-$(basename "$(dirname "$log")").log"
    done
  fi
  rm -rf "$work"
}
trap cleanup EXIT

scripts/build-busybox-image.sh "$work/busybox.tar" >/dev/null
scripts/build-busybox-image.sh "$work/pause.tar" --pause >/dev/null
image=docker.io/library/busybox:latest

netconf() { # dir bridge subnet-third-octet
  mkdir -p "$1"
  cat >"$1/10-bench.conflist" <<JSON
{"cniVersion": "1.0.0", "name": "bench-$2", "plugins": [
  {"type": "bridge", "bridge": "$2", "isGateway": true, "ipMasq": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.232.$3.0/24"}]],
            "routes": [{"dst": "0.0.0.0/0"}], "dataDir": "$work/ipam-$2"}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
JSON
}
criconf() { # file conf-dir
  cat >"$1" <<TOML
version = 2
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10"
  restrict_oom_score_adj = true
[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = "$2"
TOML
}

cpu() { # pids... -> "own+children" CPU seconds (utime+stime, cutime+cstime of reaped children)
  local own=0 kids=0 tick
  tick=$(getconf CLK_TCK)
  for pid in "$@"; do
    read -r -a f < <(sed -E 's/^.*\) //' "/proc/$pid/stat")
    own=$(( own + f[11] + f[12] )); kids=$(( kids + f[13] + f[14] ))
  done
  printf '%d.%02d s (children %d.%02d s)' $(( own / tick )) $(( own % tick * 100 / tick )) \
    $(( kids / tick )) $(( kids % tick * 100 / tick ))
}
threads() { # pid -> its 8 busiest threads, "name seconds" (CRI_BENCH_THREADS=1)
  local tick
  tick=$(getconf CLK_TCK)
  for t in /proc/"$1"/task/*; do
    read -r -a f < <(sed -E 's/^.*\) //' "$t/stat")
    printf '%s %d\n' "$(tr ' ' _ <"$t/comm")" $(( f[11] + f[12] ))
  done | awk '{cpu[$1] += $2} END {for (n in cpu) print cpu[n], n}' | sort -rn | head -8 |
    awk -v tick="$tick" '{printf "  %s %.2f s", $2, $1 / tick} END {print ""}'
}
mounts() { # daemon: the host's mount count at steady state (runc reads the mount table, and
  # each container's mount namespace starts as a copy of it)
  printf '%-12s host mounts at steady state: %d\n' "$1" "$(wc -l </proc/self/mountinfo)"
}
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
pss_kib() { # pids... -> summed PSS
  local total=0
  for pid in "$@"; do total=$(( total + $(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup") )); done
  echo "$total"
}

busy_pct() { # -> the machine's busy CPU share, percent, over the next second
  local a b
  read -r -a a < <(head -n1 /proc/stat); sleep 1; read -r -a b < <(head -n1 /proc/stat)
  local total=0 idle i
  for i in 1 2 3 4 5 6 7 8; do total=$(( total + b[i] - a[i] )); done
  idle=$(( b[4] - a[4] + b[5] - a[5] ))
  echo $(( total > 0 ? 100 - idle * 100 / total : 0 ))
}
quiet() { # daemon: waits (30 s at most) until the machine is quiet before its batch: the
  # kernel tears the previous batch's network namespaces and veths down in the background
  # for seconds after the pods are gone, and that work would otherwise count against the
  # daemon measured next
  local waited=0 busy
  while busy=$(busy_pct) && [ "$busy" -gt 10 ] && [ "$waited" -lt 30 ]; do
    waited=$(( waited + 1 ))
  done
  printf '%-12s machine quiet (%d%% busy) after %d s\n' "$1" "$busy" "$waited"
}

warm=${CRI_BENCH_WARMUP:-0}
warm_up() { # daemon socket: a first, unmeasured batch of CRI_BENCH_WARMUP pods, torn down
  [ "$warm" -gt 0 ] || return 0
  printf '%-12s warm-up: ' "$1"
  bench start "$2" "$warm" "$workers" "$(dirname "$2")/warm-logs" "$image" | head -n1
  bench teardown "$2" 0 "$workers" x x >/dev/null
}

short_dirs=""
state_on_tmpfs() { # dir: a daemon's state directory is a tmpfs, as /run is on a node
  # (containerd keeps its runc state and netns pins in /run whatever --state says; jctrd's
  # follow --state: on this disk they would pay ext4's inode allocation for every container).
  # It lives at a short path under /run, $1 a link to it: mount points under it show in
  # /proc/self/mountinfo, which runc reads several times per container, by their real path.
  local short
  short=$(mktemp -d /run/jcb.XXXXXX)
  short_dirs+=" $short"
  mount -t tmpfs -o size=1g,mode=0711 tmpfs "$short"
  ln -s "$short" "$1"
}

perf_pid=""
perf_start() { # daemon: a system-wide CPU profile of its batch (CRI_BENCH_PERF), for perf report
  [ -n "${CRI_BENCH_PERF:-}" ] || return 0
  perf record -a -g -o "$CRI_BENCH_PERF-$1" >/dev/null 2>&1 & perf_pid=$!; sleep 0.5
}
perf_stop() {
  [ -n "$perf_pid" ] || return 0
  kill -INT "$perf_pid"; wait "$perf_pid" || true; perf_pid=""
}

alive() { # pid daemon log: stops the bench, with the daemon's log, when it exited at start
  kill -0 "$1" 2>/dev/null && return 0
  echo "$2 exited before it answered; its log ($3):" >&2
  tail -n 20 "$3" >&2
  exit 1
}

run_containerd() { # dir: one batch on a fresh containerd, then its teardown
  local dir=$1
  mkdir -p "$dir"
  state_on_tmpfs "$dir/state"
  netconf "$dir/net.d" jctrbench1 1
  criconf "$dir/config.toml" "$dir/net.d"
  containerd --config "$dir/config.toml" --root "$dir/root" --state "$dir/state" \
    --address "$dir/containerd.sock" >"$dir/log" 2>&1 &
  containerd_pid=$!
  local C=(ctr --address "$dir/containerd.sock" -n k8s.io)
  for _ in $(seq 1 200); do
    "${C[@]}" version >/dev/null 2>&1 && break
    alive "$containerd_pid" containerd "$dir/log"; sleep 0.1
  done
  bench register "$dir/containerd.sock" # the kubelet registers its node
  "${C[@]}" images import "$work/pause.tar" >/dev/null
  "${C[@]}" images import "$work/busybox.tar" >/dev/null
  warm_up containerd "$dir/containerd.sock"
  quiet containerd
  printf '%-12s CPU before the batch: daemon %s\n' containerd "$(cpu "$containerd_pid")"
  perf_start containerd
  printf '%-12s ' containerd
  bench start "$dir/containerd.sock" "$n" "$workers" "$dir/logs" "$image" | tee "$dir/batch"
  perf_stop
  sleep 3
  mounts containerd
  local shims
  shims=$(pgrep -f "containerd-shim-runc-v2 .*-address $dir/containerd.sock" || true)
  printf '%-12s daemon RSS %d MiB, %d shims, total shim PSS %d MiB\n' containerd \
    $(( $(rss_kib "$containerd_pid") / 1024 )) "$(echo $shims | wc -w)" $(( $(pss_kib $shims) / 1024 ))
  printf '%-12s CPU: daemon %s, shims %s\n' containerd "$(cpu "$containerd_pid")" "$(cpu $shims)"
  printf '%-12s ' containerd; bench teardown "$dir/containerd.sock" 0 "$workers" x x
  kill "$containerd_pid"; wait "$containerd_pid" 2>/dev/null || true; containerd_pid=""
}

run_jctrd() { # dir: one batch on a fresh jctrd, then its teardown and its shims' exit
  local dir=$1
  mkdir -p "$dir"
  state_on_tmpfs "$dir/state"
  netconf "$dir/net.d" jctrbench2 2
  criconf "$dir/config.toml" "$dir/net.d"
  "$dist/bin/jctrd" --config "$dir/config.toml" --root "$dir/root" --state "$dir/state" \
    --address "$dir/jctrd.sock" >"$dir/log" 2>&1 &
  jctrd_pid=$!
  local J=(ctr --address "$dir/jctrd.sock" -n k8s.io)
  for _ in $(seq 1 200); do
    "${J[@]}" images ls >/dev/null 2>&1 && break
    alive "$jctrd_pid" jctrd "$dir/log"; sleep 0.1
  done
  bench register "$dir/jctrd.sock"
  "${J[@]}" images import "$work/pause.tar" >/dev/null
  "${J[@]}" images import "$work/busybox.tar" >/dev/null
  warm_up jctrd "$dir/jctrd.sock"
  quiet jctrd
  local early_shims
  early_shims=$(for f in "$dir"/state/s/*.pid; do [ -f "$f" ] && cat "$f"; echo; done)
  printf '%-12s CPU before the batch: daemon %s, shims %s\n' jctrd "$(cpu "$jctrd_pid")" \
    "$(cpu $early_shims)"
  [ -n "${CRI_BENCH_THREADS:-}" ] && echo "daemon threads before the batch:$(threads "$jctrd_pid")"
  perf_start jctrd
  printf '%-12s ' jctrd
  bench start "$dir/jctrd.sock" "$n" "$workers" "$dir/logs" "$image" | tee "$dir/batch"
  perf_stop
  sleep 3
  mounts jctrd
  local shims
  shims=$(for f in "$dir"/state/s/*.pid; do cat "$f"; echo; done)
  printf '%-12s daemon RSS %d MiB, %d shims, total shim PSS %d MiB\n' jctrd \
    $(( $(rss_kib "$jctrd_pid") / 1024 )) "$(echo $shims | wc -w)" $(( $(pss_kib $shims) / 1024 ))
  printf '%-12s CPU: daemon %s, shims %s\n' jctrd "$(cpu "$jctrd_pid")" "$(cpu $shims)"
  if [ -n "${CRI_BENCH_THREADS:-}" ]; then # where the CPU went, by thread name
    echo "daemon threads:$(threads "$jctrd_pid")"
    for s in $shims; do echo "shim $s threads:$(threads "$s")"; done
  fi
  printf '%-12s ' jctrd; bench teardown "$dir/jctrd.sock" 0 "$workers" x x
  kill "$jctrd_pid"; wait "$jctrd_pid" 2>/dev/null || true; jctrd_pid=""
  for pidfile in "$dir"/state/s/*.pid; do
    [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
}

total_ms() { grep -o 'total [0-9]* ms' "$1" | grep -o '[0-9]*'; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# jctr's AOT caches are made at install time, as a node's set-up would: the shim's (the first
# shim start would make it in the background, and the shims started meanwhile would go
# without) and the daemon's (its training runs pods of the pause image)
if [ "${CRI_BENCH_ONLY:-}" != containerd ] && [ "$JCTR_JAVA_FEATURE" -ge 25 ]; then
  if [ "${JCTR_SHIM_AOT:-1}" != 0 ]; then "$dist/bin/containerd-shim-jctr-v2" train; fi
  if [ "${JCTRD_AOT:-1}" != 0 ]; then "$dist/bin/jctrd" train --image "$work/pause.tar"; fi
fi
echo "$n pods, one busybox container each, $workers workers, $rounds round(s):"
only=${CRI_BENCH_ONLY:-}
for round in $(seq 1 "$rounds"); do
  [ "$rounds" -gt 1 ] && echo "-- round $round"
  # each daemon alone on the machine; containerd first in odd rounds, jctrd in even ones, so
  # that neither always follows the other's teardown
  if [ $(( round % 2 )) = 1 ]; then
    [ "$only" != jctrd ] && run_containerd "$work/r$round/containerd"
    [ "$only" != containerd ] && run_jctrd "$work/r$round/jctrd"
  else
    [ "$only" != containerd ] && run_jctrd "$work/r$round/jctrd"
    [ "$only" != jctrd ] && run_containerd "$work/r$round/containerd"
  fi
done
c=$(for f in "$work"/r*/containerd/batch; do [ -f "$f" ] && total_ms "$f"; done | median)
j=$(for f in "$work"/r*/jctrd/batch; do [ -f "$f" ] && total_ms "$f"; done | median)
if [ -n "$c" ] && [ -n "$j" ]; then
  awk -v c="$c" -v j="$j" -v r="$rounds" 'BEGIN {printf "batch total, median of %d round(s): containerd %d ms, jctrd %d ms, ratio jctrd/containerd %.2f\n", r, c, j, j/c}'
  # each round's two batches run minutes apart, so their ratio cancels the machine's drift
  # between rounds; the geometric mean sums them up
  for round in $(seq 1 "$rounds"); do
    echo "$(total_ms "$work/r$round/jctrd/batch") $(total_ms "$work/r$round/containerd/batch")"
  done | awk '{r = $1 / $2; all = all sprintf(" %.2f", r); log_sum += log(r)}
    END {printf "ratio per round:%s; geometric mean %.3f\n", all, exp(log_sum / NR)}'
else # one daemon only (CRI_BENCH_ONLY)
  echo "batch total, median of $rounds round(s): ${c:+containerd $c ms}${j:+jctrd $j ms}"
fi
