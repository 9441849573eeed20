# Sourced by jctr's scripts: sets JCTR_JAVA_HOME to a JDK >= 21 and JCTR_JAVA_FEATURE to its
# feature version (25, 21, ...). Order: $JAVA_HOME when it is recent enough, else the newest
# JDK under /usr/lib/jvm, else the java on PATH. Reads each JDK's `release` file rather than
# starting a JVM, so choosing costs nothing on the command line's start-up path.
jctr_java_feature() { # $1 = JDK home; prints the feature version or nothing
  local release="$1/release" line version
  if [ -r "$release" ]; then
    line=$(grep -m1 '^JAVA_VERSION=' "$release" 2>/dev/null) || return 0
    version=${line#JAVA_VERSION=}; version=${version//\"/}
  elif [ -x "$1/bin/java" ]; then
    version=$("$1/bin/java" -version 2>&1 | sed -n '1s/.*version "\([^"]*\)".*/\1/p')
  else
    return 0
  fi
  version=${version#1.}; echo "${version%%[.+-]*}"
}

jctr_find_java() {
  local minimum=21 best="" best_feature=0 home feature
  if [ -n "${JAVA_HOME:-}" ]; then
    feature=$(jctr_java_feature "$JAVA_HOME")
    if [ -n "$feature" ] && [ "$feature" -ge "$minimum" ] && [ -x "$JAVA_HOME/bin/java" ]; then
      JCTR_JAVA_HOME=$JAVA_HOME; JCTR_JAVA_FEATURE=$feature; return 0
    fi
  fi
  for home in /usr/lib/jvm/*/; do
    home=${home%/}
    [ -x "$home/bin/java" ] && [ ! -L "$home" ] || continue
    feature=$(jctr_java_feature "$home")
    if [ -n "$feature" ] && [ "$feature" -gt "$best_feature" ]; then best=$home; best_feature=$feature; fi
  done
  if [ -z "$best" ] && command -v java >/dev/null 2>&1; then
    home=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
    best=$home; best_feature=$(jctr_java_feature "$home"); best_feature=${best_feature:-0}
  fi
  if [ -z "$best" ] || [ "$best_feature" -lt "$minimum" ]; then
    echo "jctr needs a JDK $minimum or newer; found ${best:-none}${best:+ (Java $best_feature)}." >&2
    echo "Install one (for example: apt-get install -y openjdk-21-jdk-headless or Temurin 25) or set JAVA_HOME to it." >&2
    return 1
  fi
  JCTR_JAVA_HOME=$best; JCTR_JAVA_FEATURE=$best_feature
}
