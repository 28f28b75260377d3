#!/usr/bin/env bash
# Peak RSS of the agent daemon per staging path (1 GiB raw over loopback http, delta by Range,
# os.tar container image from docker-registry on 127.0.0.1) and idle, with the JVM flags of
# deploy/systemd/kubeos-agent.service on the jlink'd runtime the node ships; optionally the same
# raw stage as a one-shot CLI JVM (--cli-jar kubeos-cli/target/kubeos.jar --cli 'OPTS', repeatable;
# OPTS run on the java of this script unless their first word, not a flag, names another java:
# --cli 'kubeos-cli/target/agent-runtime/bin/java -XX:+UseSerialGC'), or through a launcher script
# as a user calls it (--launcher ./kubeos, repeatable).
# Usage: bench/agent-memory-bench.sh [--dir /var/tmp] [--size-mib 1024] [--runs 1] [--nmt]
#        [--paths idle,raw,delta,ostar,activated] [--unit FILE] [--cli-jar JAR --cli 'JVM OPTS' ...]
# Needs: docker-registry (for ostar), gdisk, e2fsprogs, util-linux (fallocate), /usr/bin/time;
# ~4x the payload size free in --dir.
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -q -B -ntp -pl bench,kubeos-cli -am package dependency:build-classpath \
  -Dmdep.outputFile=target/classpath.txt -DskipTests -Dspotless.check.skip=true
scripts/build-agent-runtime.sh >/dev/null
rt=kubeos-cli/target/agent-runtime
exec java -Xmx1g -cp "bench/target/classes:$(cat bench/target/classpath.txt)" \
  dev.kubeos.bench.AgentMemoryBench --java "$rt/bin/java" --jar "$rt/kubeos.jar" "$@"
