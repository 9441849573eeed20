#!/usr/bin/env bash
# The daemon's training run, behind its AOT cache (`jctrd train --image ARCHIVE [--pods N]`;
# bin/jctrd passes the cache's path first and its JVM options after --). A daemon of its own,
# in a temporary root and state, with compile thresholds at a tenth and recording for the cache,
# serves a kubelet's calls (dev.jctr.cli.DaemonTraining) for N pods (24) whose sandbox and
# container both run ARCHIVE's image (a pause image: its entrypoint runs until SIGTERM), on a
# bridge network of its own (Debian's CNI plugins) and real runc; then it stops, the JVM writes
# the cache, and everything the run made goes: shims, mounts, cgroups, the bridge, the files.
set -euo pipefail
dist=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
cache=$1
shift
image="" pods=24
usage() {
  echo "usage: jctrd train --image ARCHIVE [--pods N]" >&2
  echo "  ARCHIVE: an image archive (docker or OCI) of a pod sandbox image, e.g. one from" >&2
  echo "  scripts/build-busybox-image.sh OUT.tar --pause" >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    --image) image=${2:-}; shift 2 || usage ;;
    --pods) pods=${2:-}; shift 2 || usage ;;
    --) shift; break ;;
    *) usage ;;
  esac
done
jvm_options=("$@")
java=${JCTRD_TRAINING_JAVA:?run as jctrd train}

report() { # what the training compiled (the JVM refuses a cache that does not match); the
  # bundles' classes, defined by Felix's class loaders, are listed without their class names
  local compiled
  compiled=$("$java" "${jvm_options[@]}" -XX:AOTMode=on -XX:AOTCache="$cache" \
    -XX:+UnlockDiagnosticVMOptions -XX:+AOTPrintTrainingInfo -Xlog:disable \
    -cp "$dist/lib/daemon/*" -version 2>&1 | sed -nE 's/^  C \[SYM\]\.([^#]*)#.*/\1/p' \
    | sort -u)
  echo "jctrd AOT cache: $cache: $(grep -c . <<<"$compiled") methods of the bundles compiled" \
    "in training, $(grep -c 'dev/jctr/cri/' <<<"$compiled") of them naming the CRI's types"
}
if [ -f "$cache" ]; then
  report
  exit 0
fi
[ -n "$image" ] || usage
[[ $pods =~ ^[1-9][0-9]{0,3}$ ]] || { echo "jctrd train: --pods takes 1 to 9999" >&2; exit 2; }
[ -f "$image" ] || { echo "jctrd train: no image archive at $image" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "jctrd train: runs pods, so it needs root" >&2; exit 1; }
command -v runc >/dev/null || {
  echo "jctrd train: runc is not installed (apt-get install -y runc)" >&2; exit 1; }
cni_bin=""
for dir in /opt/cni/bin /usr/lib/cni; do
  [ -x "$dir/bridge" ] && [ -x "$dir/host-local" ] && [ -x "$dir/loopback" ] && cni_bin=$dir && break
done
[ -n "$cni_bin" ] || {
  echo "jctrd train: no CNI plugins (apt-get install -y containernetworking-plugins)" >&2; exit 1; }

mkdir -p "$(dirname "$cache")"
find "$(dirname "$cache")" -maxdepth 1 -name 'jctrd-*.training' -mmin +30 \
  -exec rm -rf {} + 2>/dev/null || true
mkdir "$cache.training" 2>/dev/null || {
  echo "jctrd train: another training is making $cache ($cache.training)" >&2; exit 1; }
work=$(mktemp -d /tmp/jctrd-training.XXXXXX)
bridge="jctrt$$"
daemon=""
cleanup() {
  if [ -n "$daemon" ]; then
    kill "$daemon" 2>/dev/null || true
    wait "$daemon" 2>/dev/null || true
  fi
  local shims=""
  for pidfile in "$work"/state/s/*.pid; do
    [ -f "$pidfile" ] && shims+=" $(cat "$pidfile")"
  done
  for pid in $shims; do kill "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 100); do
    local alive=""
    for pid in $shims; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ -z "$alive" ] && break
    sleep 0.1
  done
  for m in $(grep -o "$work[^ ]*" /proc/self/mounts | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
  ip link del "$bridge" 2>/dev/null || true
  for c in /sys/fs/cgroup/jctr-training /sys/fs/cgroup/*/jctr-training; do # v2, v1
    [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
  rm -rf "$work" "$cache.training"
}
trap cleanup EXIT

# the shims of the training daemon use their own cache: made first, so none trains meanwhile
"$dist/bin/containerd-shim-jctr-v2" train >/dev/null 2>&1 || true

subnet="10.233.$(( $$ % 250 )).0/24" # (the bench uses 10.232, the tests 10.231)
mkdir -p "$work/net.d"
cat >"$work/net.d/10-training.conflist" <<JSON
{"cniVersion": "1.0.0", "name": "jctr-training", "plugins": [
  {"type": "bridge", "bridge": "$bridge", "isGateway": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "$subnet"}]],
            "dataDir": "$work/ipam"}}]}
JSON
# the archive's image name (OCI index annotation, else docker manifest tag) is the sandbox image
ref=$( { tar -xOf "$image" index.json 2>/dev/null || true; } \
  | grep -oE '"io\.containerd\.image\.name" *: *"[^"]+"' | head -n1 | sed -E 's/.*"([^"]+)"$/\1/')
if [ -z "$ref" ]; then
  ref=$( { tar -xOf "$image" manifest.json 2>/dev/null || true; } \
    | grep -oE '"RepoTags" *: *\[ *"[^"]+"' | head -n1 | sed -E 's/.*"([^"]+)"$/\1/')
fi
[ -n "$ref" ] || { echo "jctrd train: $image names no image (index.json annotation" \
  "io.containerd.image.name or manifest.json RepoTags)" >&2; exit 1; }
cat >"$work/config.toml" <<TOML
version = 2
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$ref"
[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "$cni_bin"
  conf_dir = "$work/net.d"
TOML

echo "jctrd train: a daemon of its own runs $pods pods, then writes $cache"
"$java" "${jvm_options[@]}" -XX:CompileThresholdScaling=0.1 -Xlog:disable \
  -XX:AOTCacheOutput="$cache.training/jctrd.aot" -cp "$dist/lib/daemon/*" \
  dev.jctr.kernel.launcher.Jctrd --config "$work/config.toml" --root "$work/root" \
  --state "$work/state" --address "$work/jctrd.sock" >"$work/log" 2>&1 &
daemon=$!
jctr=("$dist/bin/jctr" --address "$work/jctrd.sock" -n k8s.io)
for _ in $(seq 1 600); do
  [ -S "$work/jctrd.sock" ] && "${jctr[@]}" version >/dev/null 2>&1 && break
  kill -0 "$daemon" 2>/dev/null || { echo "jctrd train: the daemon exited; its log:" >&2
    tail -n 20 "$work/log" >&2; exit 1; }
  sleep 0.1
done
"${jctr[@]}" images import "$image" >/dev/null
"${jctr[@]}" images ls -q | grep -qxF "$ref" || {
  echo "jctrd train: importing $image gave no $ref" >&2; exit 1; }
"$java" -XX:TieredStopAtLevel=1 -cp "$dist/lib/cli/*" dev.jctr.cli.DaemonTraining \
  "$work/jctrd.sock" "$ref" "$pods" "$work/logs"
kill "$daemon"
wait "$daemon" || true # the JVM writes the cache as it exits
daemon=""
if [ ! -s "$cache.training/jctrd.aot" ]; then
  echo "jctrd train: the daemon wrote no cache; its log:" >&2
  tail -n 20 "$work/log" >&2
  exit 1
fi
prefix=$(basename "${cache%-*}")
find "$(dirname "$cache")" -maxdepth 1 -name "$prefix-*.aot" ! -name "$(basename "$cache")" -delete
mv -f "$cache.training/jctrd.aot" "$cache"
report
