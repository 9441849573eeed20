#!/usr/bin/env bash
# Runs the whole test suite: unit tests in every module, then the integration tests in itest
# (Pax Exam on the real bundles, and the real daemon driven by jctr and containerd's ctr).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  echo "test.sh: the tests mount filesystems and run containers; run them as root." >&2
  exit 1
fi
scripts/prepare-cgroups.sh # crun's tests need it on a hybrid cgroup host
exec scripts/build.sh verify "$@"
