#!/usr/bin/env bash
# Idle RSS and CPU of `kubeos proxy` as the image runs it (the entrypoint's JVM flags, the
# DaemonSet's JAVA_TOOL_OPTIONS and MALLOC_ARENA_MAX, kubeos-cli's runtime classpath; JDK 17 as in
# the image) watching fabric8's mock API server (CRUD mode, the project's CRDs) with a real agent
# daemon behind its socket: samples every 10 s over the idle period, then a few Node label changes.
# Usage: bench/proxy-idle-bench.sh [--idle-seconds 180] [--events 5] [--java-tool-options 'OPTS']
#        [--env K=V]... [--nmt]
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -q -B -ntp -pl bench,kubeos-cli -am package dependency:build-classpath \
  -DincludeScope=runtime -Dmdep.outputFile=target/classpath.txt -DskipTests \
  -Dspotless.check.skip=true
[ -x kubeos-cli/target/agent-runtime/bin/java ] || scripts/build-agent-runtime.sh >/dev/null
rt=kubeos-cli/target/agent-runtime
cli=$(ls kubeos-cli/target/kubeos-cli-*.jar | grep -v -- '-tests\.jar$' | head -1)
exec java -Xmx256m -cp "bench/target/classes:$(cat bench/target/classpath.txt)" \
  dev.kubeos.bench.ProxyIdleBench --classpath "$cli:$(cat kubeos-cli/target/classpath.txt)" \
  --agent-java "$rt/bin/java" --agent-jar "$rt/kubeos.jar" "$@"
