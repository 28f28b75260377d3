#!/usr/bin/env bash
# Builds the bench module and runs the raw-image staging macro benchmark.
# Usage: bench/stage-bench.sh [--dir /var/tmp] [--size-mib 1024] [--runs 3]
# Needs: curl, coreutils (sha256sum, dd, tee), bash; ~3x the payload size free in --dir and in RAM.
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -q -B -pl bench -am package dependency:build-classpath \
  -Dmdep.outputFile=target/classpath.txt -DskipTests -Dspotless.check.skip=true
exec java -Xmx3g -cp "bench/target/classes:$(cat bench/target/classpath.txt)" \
  dev.kubeos.bench.StageBench "$@"
