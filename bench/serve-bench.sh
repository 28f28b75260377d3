#!/usr/bin/env bash
# The agent daemon's start-up time (to the first answer of `status` on its socket) and idle RSS,
# side by side: JDK 17 with default flags, JDK 17 tuned, the jlink'd JDK 25 runtime tuned + AppCDS.
# Usage: bench/serve-bench.sh [RUNS]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
./mvnw -q -B -DskipTests -Dspotless.check.skip=true install
scripts/build-agent-runtime.sh >/dev/null
cp=$(./mvnw -q -B -pl bench dependency:build-classpath -Dmdep.outputFile=/dev/stdout)
java -cp "bench/target/classes:$cp" dev.kubeos.bench.ServeBench kubeos-cli/target/kubeos-agent.jar kubeos-cli/target/agent-runtime "${1:-5}"
