#!/usr/bin/env bash
# The 200-node fleet benchmark (issue 16: the figure-producing run left the test suite; a benchmark
# may be slow and noisy, a test may not). Runs the same scenarios as the default tier's fleet
# tests, scaled up with -Dkubeos.fleet.nodes (default 200) on fabric8's mock API server, in one JVM:
#   - FleetScaleIT: the real operator, every node's proxy and agent simulated (one actor), N nodes,
#     maxunavailable N/10, 5 failing;
#   - FleetWithProxiesIT: the real operator and N real proxies (+N/20 outside the selector) through
#     time window, failures, failure budget halt, PDB-blocked drains (30 s drain timeout), pause,
#     operator and proxy restarts; and the plain 20-node rollout.
# Prints: wall time of each test, the scenario's timeline (set-up to convergence), API requests per
# node (operator and proxies), reconcile and reaction times, the load before and after.
# Usage: bench/fleet-bench.sh [NODES]      (as any user; ~3-6 min of both cores; run it alone)
# Output also in .work/bench/fleet-<time>.log. Figures: docs/benchmarks.md, "Fleet on the mock API
# server".
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
nodes=${1:-200}
mkdir -p .work/bench
log=".work/bench/fleet-$(date -u +%Y%m%dT%H%M%SZ).log"
rc=0
(
  echo "# $(date -u +%FT%TZ) $(nproc) cores, $nodes nodes, load before: $(uptime)"
  start=$(date +%s)
  # only kubeos-cluster's fleet ITs run (-am builds what it needs, without their tests)
  set +e
  ./mvnw -B -ntp verify -pl kubeos-cluster -am -Dspotless.check.skip=true \
    -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false \
    -Dit.test='FleetScaleIT,FleetWithProxiesIT' -Dkubeos.fleet.nodes="$nodes"
  rc=$?
  set -e
  echo "# exit $rc after $(( $(date +%s) - start )) s; load after: $(uptime)"
  exit $rc
) > "$log" 2>&1 || rc=$?
echo "== figures ($nodes nodes; full log: $log)"
grep -E '^# |ProxyFleet [0-9]+\+[0-9]+ nodes|^FleetScaleIT [0-9]+ nodes|^FleetWithProxiesIT|Tests run:.*in dev|BUILD' "$log"
exit "$rc"
