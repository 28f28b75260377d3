#!/usr/bin/env bash
# Builds the agent's small Java runtime with jlink (and a CDS archive of the classes the agent
# loads up to its first answer), for the node image and for the serve benchmark.
# Usage: scripts/build-agent-runtime.sh [OUTPUT_DIR]    (default: kubeos-cli/target/agent-runtime)
# JLINK_JDK selects the JDK whose jlink and modules are used (default: Temurin 25 if present,
# else the default JDK). The jar is built for Java 17 and runs on either.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$here/kubeos-cli/target/agent-runtime}
jdk=${JLINK_JDK:-}
if [ -z "$jdk" ]; then
  if [ -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/jlink ]; then jdk=/usr/lib/jvm/temurin-25-jdk-amd64
  else jdk=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")"); fi
fi
jar="$here/kubeos-cli/target/kubeos-agent.jar"
[ -f "$jar" ] || { echo "build the jar first: ./mvnw -q -DskipTests install" >&2; exit 1; }
# What the jar needs (jdeps): the list ./kubeos checks a runtime against before it uses it.
modules=$(grep -v '^#' "$here/scripts/agent-runtime.modules" | tr -d ' \n')
# Compression syntax: JDK 21+ takes zip-0..zip-9 (and deprecates 0|1|2); JDK 17 (Debian 12's
# OpenJDK) only knows 0|1|2, where 2 is ZIP. --generate-cds-archive exists in both.
major=$("$jdk/bin/jlink" --version | cut -d. -f1)
if [ "$major" -ge 21 ]; then compress=zip-6; else compress=2; fi
rm -rf "$out"
"$jdk/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages \
  --compress="$compress" --generate-cds-archive --output "$out"
cp "$jar" "$out/kubeos.jar"
echo "agent runtime: $out ($(du -sh "$out" | cut -f1), $("$out/bin/java" -version 2>&1 | head -1))"
