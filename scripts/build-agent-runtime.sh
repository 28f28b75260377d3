#!/usr/bin/env bash
# Builds the agent's small Java runtime with jlink (with the JDK's CDS archive), puts the agent's
# jar in it, and a CDS archive of the classes the post-boot gate loads (kubeos.jsa, next to the
# jar), for the node image and for the serve benchmark.
# Usage: scripts/build-agent-runtime.sh [OUTPUT_DIR]    (default: kubeos-cli/target/agent-runtime)
# JLINK_JDK selects the JDK whose jlink and modules are used (default: Temurin 25 if present,
# else the default JDK). The jar is built for Java 17 and runs on either. AGENT_JAR and
# AGENT_MODULES replace the jar (default: kubeos-cli/target/kubeos-agent.jar) and the module list
# (default: scripts/agent-runtime.modules); the cluster e2e's images use the whole CLI jar.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$here/kubeos-cli/target/agent-runtime}
jdk=${JLINK_JDK:-}
if [ -z "$jdk" ]; then
  if [ -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/jlink ]; then jdk=/usr/lib/jvm/temurin-25-jdk-amd64
  else jdk=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")"); fi
fi
jar=${AGENT_JAR:-$here/kubeos-cli/target/kubeos-agent.jar}
[ -f "$jar" ] || { echo "build the jar first: ./mvnw -q -DskipTests install" >&2; exit 1; }
# What the jar needs (jdeps): the list ./kubeos checks a runtime against before it uses it.
modules=${AGENT_MODULES:-$(grep -v '^#' "$here/scripts/agent-runtime.modules" | tr -d ' \n')}
# Compression syntax: JDK 21+ takes zip-0..zip-9 (and deprecates 0|1|2); JDK 17 (Debian 12's
# OpenJDK) only knows 0|1|2, where 2 is ZIP. --generate-cds-archive exists in both.
major=$("$jdk/bin/jlink" --version | cut -d. -f1)
if [ "$major" -ge 21 ]; then compress=zip-6; else compress=2; fi
rm -rf "$out"
"$jdk/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages \
  --compress="$compress" --generate-cds-archive --output "$out"
cp "$jar" "$out/kubeos.jar"
# kubeos.jsa: the classes `agent health` loads, parsed and verified once here instead of at every
# boot (kubeos-health.service, the gate a trial's commit waits for, is a cold JVM start on every
# boot: seconds on a slow or emulated CPU, docs/benchmarks.md). A dynamic archive on top of the
# JDK's: made by running the gate's command on a small file-backed disk, from this directory with
# the jar named relative to it, as the unit runs it (WorkingDirectory=): Java 17 uses an archive
# only with the jar path it was made with. The JVM uses it only with this runtime and this jar
# (same size and time: the image builder copies the runtime with its times); with any other it
# runs without, as before.
train=$(mktemp -d)
trap 'rm -rf "$train"' EXIT
mkdir -p "$train/esp" "$train/state"
truncate -s 64M "$train/disk.img"
sgdisk -o -n1:2048:+4M -t1:EF00 -c1:ESP -n2:0:+16M -t2:8304 -c2:ROOT-A -n3:0:+16M -t3:8304 \
  -c3:ROOT-B -n4:0:0 -t4:8300 -c4:PERSIST "$train/disk.img" >/dev/null
echo '{"checks": [{"type": "command", "argv": ["true"], "deadlineSeconds": 60}]}' >"$train/health.json"
agent=(agent --disk "$train/disk.img" --boot-dir "$train/esp" --state-dir "$train/state"
  --booted-slot A --health-config "$train/health.json")
"$out/bin/java" -jar "$out/kubeos.jar" "${agent[@]}" init --version training >"$train/init.log" 2>&1 ||
  { cat "$train/init.log" >&2; exit 1; }
(cd "$out" && bin/java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:ArchiveClassesAtExit=kubeos.jsa \
  -jar kubeos.jar "${agent[@]}" health --no-reboot) >"$train/health.log" 2>&1 &&
  grep -q '^health passed' "$train/health.log" ||
  { cat "$train/health.log" >&2; echo "the training run of agent health failed" >&2; exit 1; }
(cd "$out" && bin/java -Xshare:on -XX:SharedArchiveFile=kubeos.jsa -jar kubeos.jar --version) \
  >/dev/null || { echo "$out/kubeos.jsa is not usable by $out/bin/java" >&2; exit 1; }
echo "agent runtime: $out ($(du -sh "$out" | cut -f1), $("$out/bin/java" -version 2>&1 | head -1))"
