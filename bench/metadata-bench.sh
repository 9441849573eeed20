#!/usr/bin/env bash
# Metadata figures for jctrd beside Debian's containerd, in the same run on temporary roots:
# 1000 containers in k8s.io, p50/p90 of `jctr containers list --namespace k8s.io` and of
# `ctr -n k8s.io containers ls`, and server-side List/ListStream latency.
# Usage: bench/metadata-bench.sh [containers] [calls]  (default 1000 containers, 20 calls).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
. scripts/find-java.sh
jctr_find_java
dist=distribution/target/jctr-0.1.0/jctr-0.1.0
if [ ! -x "$dist/bin/jctrd" ]; then
  scripts/build.sh package -DskipTests -q
fi
exec "$JCTR_JAVA_HOME/bin/java" -cp "$dist/lib/cli/*" \
  bench/MetadataBench.java "$dist" "${1:-1000}" "${2:-20}"
