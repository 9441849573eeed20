#!/usr/bin/env bash
# Side-by-side figures for jctrd and Debian's containerd, measured in the same run on temporary
# roots: time from process start to socket ready, idle RSS/PSS, and p50/p90 of `version` through
# each one's own CLI (jctr / ctr). Usage: bench/bench.sh [runs]  (default 5 daemon starts,
# 20 CLI calls each).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
. scripts/find-java.sh
jctr_find_java
dist=distribution/target/jctr-0.1.0/jctr-0.1.0
if [ ! -x "$dist/bin/jctrd" ]; then
  scripts/build.sh package -DskipTests -q
fi
exec "$JCTR_JAVA_HOME/bin/java" bench/StartupBench.java "$dist" "${1:-5}" "${2:-20}"
