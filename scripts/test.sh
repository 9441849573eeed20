#!/usr/bin/env bash
# Runs the whole test suite: unit tests in every module, then the integration tests in itest
# (Pax Exam on the real bundles, and the real daemon driven by jctr and containerd's ctr).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  echo "test.sh: the tests mount filesystems and run containers; run them as root." >&2
  exit 1
fi
# crun's tests need it on a hybrid cgroup host; if it cannot, only they fail (naming it)
scripts/prepare-cgroups.sh || echo "test.sh: continuing; the crun tests will fail" >&2
exec scripts/build.sh verify "$@"
