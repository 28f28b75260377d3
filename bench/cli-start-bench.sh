#!/usr/bin/env bash
# Start-up of quick CLI commands (`kubeos --help`, an offline `kubeos plan`, `kubeos agent --help`)
# under JVM flag sets
# side by side, interleaved run by run so that machine load hits all alike; prints the median and
# the spread of the wall time of each. The jar must be built (./kubeos builds it on first use).
# Usage: bench/cli-start-bench.sh [RUNS] ['JVM FLAGS' ...]
#   default flag sets: the launcher's old C1-only set and the default JIT (both with SerialGC, CDS);
#   a set "launcher" runs the checkout launcher ./kubeos with its own choice of flags (it checks the
#   packages and the jar's freshness first, as a user's call does; it runs `agent` commands on the
#   agent's jlink'd runtime when kubeos-cli/target/agent-runtime exists); "launcher:PATH" runs
#   another launcher script (e.g. an older ./kubeos kept next to it).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-11}
shift || true
sets=("$@")
if [ ${#sets[@]} -eq 0 ]; then
  sets=("-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto" "-XX:+UseSerialGC -Xshare:auto" launcher)
fi
jar=kubeos-cli/target/kubeos.jar
[ -f "$jar" ] || { echo "no $jar: run ./kubeos --help once" >&2; exit 2; }
plan=(plan -f kubeos-cli/src/test/resources/plan/os.yaml --nodes kubeos-cli/src/test/resources/plan/cluster.yaml --now 2026-03-02T23:00:00Z)
declare -A t
for ((r = 0; r < runs; r++)); do
  for i in "${!sets[@]}"; do
    for cmd in help plan agent; do
      case $cmd in help) args=(--help) ;; plan) args=("${plan[@]}") ;; agent) args=(agent --help) ;; esac
      s=$(date +%s%N)
      if [ "${sets[$i]}" = launcher ]; then
        ./kubeos "${args[@]}" >/dev/null
      elif [[ ${sets[$i]} == launcher:* ]]; then
        "${sets[$i]#launcher:}" "${args[@]}" >/dev/null
      else
        # shellcheck disable=SC2086
        java ${sets[$i]} -jar "$jar" "${args[@]}" >/dev/null
      fi
      t[$i,$cmd]+="$(( ($(date +%s%N) - s) / 1000000 )) "
    done
  done
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg); $runs runs each, interleaved; wall ms: median (min-max)"
for i in "${!sets[@]}"; do
  for cmd in help plan agent; do
    read -r -a v <<<"$(tr ' ' '\n' <<<"${t[$i,$cmd]}" | grep . | sort -n | tr '\n' ' ')"
    printf '%-6s %6d (%d-%d)  %s\n' "$cmd" "${v[$(( ${#v[@]} / 2 ))]}" "${v[0]}" "${v[-1]}" "${sets[$i]}"
  done
done
