#!/usr/bin/env bash
# Builds the distribution and a busybox image (from Debian's busybox-static, no network), starts
# jctrd on its embedded defaults (root /var/lib/jctr, state /run/jctr, socket
# /run/jctr/jctrd.sock), imports the image, shows it answering through jctr and containerd's
# ctr, then keeps it in the foreground until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/prepare-cgroups.sh || true # so that containers may run on crun (--runc-binary crun)
scripts/build.sh package -DskipTests -q
dist=distribution/target/jctr-0.1.0/jctr-0.1.0
image=distribution/target/images/busybox.tar
scripts/build-busybox-image.sh "$image" >/dev/null
pause=distribution/target/images/pause.tar
scripts/build-busybox-image.sh "$pause" --pause >/dev/null
"$dist/bin/jctrd" "$@" &
daemon=$!
trap 'kill "$daemon" 2>/dev/null; wait "$daemon" 2>/dev/null' EXIT INT TERM
socket=/run/jctr/jctrd.sock prev=""
for arg in "$@"; do
  if [ "$prev" = --address ] || [ "$prev" = -a ]; then socket=$arg; fi
  prev=$arg
done
for _ in $(seq 100); do [ -S "$socket" ] && break; kill -0 "$daemon" || exit 1; sleep 0.1; done
echo "--- jctr version"; "$dist/bin/jctr" --address "$socket" version
echo "--- jctr plugins ls"; "$dist/bin/jctr" --address "$socket" plugins ls
echo "--- jctr images import $image"
"$dist/bin/jctr" --address "$socket" images import "$image"
echo "--- jctr -n k8s.io images import $pause (the pod sandbox image)"
"$dist/bin/jctr" --address "$socket" -n k8s.io images import "$pause"
echo "--- jctr images ls"; "$dist/bin/jctr" --address "$socket" images ls
if command -v runc >/dev/null; then
  echo "--- jctr run --rm busybox hello-jctr echo hello from a container"
  "$dist/bin/jctr" --address "$socket" run --rm busybox "hello-jctr-$$" echo hello from a container
fi
if command -v ctr >/dev/null; then
  echo "--- ctr --address $socket version"; ctr --address "$socket" version
fi
echo "--- jctrd is running (pid $daemon); Ctrl-C stops it"
wait "$daemon"
