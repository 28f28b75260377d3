#!/usr/bin/env bash
# The agent daemon's cold start (issue 14): process start -> first `status` answer on its socket,
# CPU used by then and idle RSS, with the systemd unit's exact JVM flags on the jlink'd runtime,
# side by side with `java -version` on the same runtime and flags.
# Usage: bench/serve-bench.sh [RUNS]   (NICE=-20 runs the measured processes at that priority on a
# shared machine; default: not reniced)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
./mvnw -q -B -pl bench,kubeos-cli -am package dependency:build-classpath \
  -Dmdep.outputFile=target/classpath.txt -DskipTests -Dspotless.check.skip=true
scripts/build-agent-runtime.sh >/dev/null
nice=()
if [ -n "${NICE:-}" ]; then nice=(nice -n "$NICE"); fi
"${nice[@]}" java -cp "bench/target/classes:$(cat bench/target/classpath.txt)" dev.kubeos.bench.ServeBench \
  kubeos-cli/target/agent-runtime deploy/systemd/kubeos-agent.service "${1:-5}"
