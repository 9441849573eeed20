#!/usr/bin/env bash
# Builds jctr with a JDK >= 21 found on this machine (the default java may be older).
# Usage: scripts/build.sh [maven arguments...]   (default: package, tests skipped)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
. scripts/find-java.sh
jctr_find_java
export JAVA_HOME=$JCTR_JAVA_HOME PATH="$JCTR_JAVA_HOME/bin:$PATH"
if [ $# -eq 0 ]; then set -- package -DskipTests; fi
exec mvn -B -ntp "$@"
