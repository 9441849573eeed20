#!/usr/bin/env bash
# Pull figures for jctrd beside Debian's containerd, in the same run: an image of 8 layers,
# ~200 MB in all, built here and served by Debian's docker-registry on 127.0.0.1, pulled and
# unpacked (overlayfs) cold (fresh daemon, empty store) and warm (the daemon has pulled an
# image of the same shape before; this one is new to it). jctrd pulls server-side
# (`jctr images pull`); containerd pulls as `ctr images pull` does. p50 over rounds, and ratios.
# Usage: bench/pull-bench.sh [rounds] [layer MiB]   (as root; default 3 rounds, 25 MiB layers)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
. scripts/find-java.sh
jctr_find_java
dist=distribution/target/jctr-0.1.0/jctr-0.1.0
if [ ! -x "$dist/bin/jctrd" ]; then
  scripts/build.sh package -DskipTests -q
fi
# the registry fixture and image builder of the integration tests
scripts/build.sh test-compile -q -pl itest -am >/dev/null
cp="itest/target/test-classes:$(ls $dist/lib/cli/*.jar | tr '\n' ':')"
exec "$JCTR_JAVA_HOME/bin/java" -cp "$cp" bench/PullBench.java "$dist" "${1:-3}" "${2:-25}"
