#!/usr/bin/env bash
# Stress check of the test suite itself (issue 16): is the README's test command green every time
# under ordinary load? From a clean clone of the current commit (git clone into a temp dir, HEAD
# checked out; uncommitted changes are not part of it), with one core kept busy by a background
# loop this script starts and stops itself, it runs:
#   - the default tier, ./mvnw -B -ntp verify, RUNS times in a row (each in a fresh clone);
#   - the e2e tier once, as scripts/test.sh's stage 2 runs it (QEMU; needs root, qemu-system-x86,
#     ovmf and a warm rootfs cache in ~/.cache/kubeos/image, else it adds a debootstrap).
# It prints pass/fail and the time of each run as it ends, and a summary. Exit status: 0 only if
# every run passed.
#
# Usage: bench/suite-stress.sh                     (~50 min of both cores on a 2-core machine)
# Knobs (environment):
#   RUNS=3          default-tier runs
#   SKIP_E2E=1      no e2e run
#   BUSY_CORES=1    cores kept busy by the background load (0: none)
#   MVN_ARGS=...    extra arguments for the default tier's mvnw (e.g. '-pl kubeos-api' for a
#                   quick check of this script: RUNS=1 SKIP_E2E=1 MVN_ARGS='-pl kubeos-api')
# Logs: .work/bench/suite-stress-<time>/ (one per run; the summary in summary.txt).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=${RUNS:-3}
busy=${BUSY_CORES:-1}
read -r -a mvn_args <<< "${MVN_ARGS:-}"
sha=$(git -C "$here" rev-parse HEAD)
out="$here/.work/bench/suite-stress-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kubeos-suite-stress.XXXXXX")
load_pids=()

cleanup() {
  local p
  for p in "${load_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { echo "$*" | tee -a "$out/summary.txt"; }

say "# suite stress check of $sha ($(git -C "$here" log -1 --format=%s "$sha" | cut -c1-80))"
if [ -n "$(git -C "$here" status --porcelain --untracked-files=no)" ]; then
  say "# note: the working tree has uncommitted changes; they are NOT part of this check"
fi
say "# $(nproc) cores, $busy kept busy; $runs default-tier run(s)$([ "${SKIP_E2E:-}" = 1 ] \
  && echo ", e2e skipped" || echo ", then the e2e tier once"); extra mvnw args: ${mvn_args[*]:-none}"
say "# load before: $(uptime)"

for ((i = 0; i < busy; i++)); do
  (while :; do :; done) &
  load_pids+=($!)
done

results=()
failed=0
# run NAME LOG COMMAND...: in a fresh clone; records pass/fail and seconds
run() {
  local name=$1 log=$2 dir start rc secs
  shift 2
  dir="$tmp/$name"
  git clone --quiet --no-hardlinks "$here" "$dir"
  git -C "$dir" checkout --quiet --detach "$sha"
  start=$(date +%s)
  set +e
  (cd "$dir" && "$@") > "$log" 2>&1
  rc=$?
  set -e
  secs=$(($(date +%s) - start))
  rm -rf "$dir"
  if [ "$rc" = 0 ]; then
    results+=("$(printf '%-14s PASS %6d s' "$name" "$secs")")
  else
    failed=$((failed + 1))
    results+=("$(printf '%-14s FAIL %6d s (exit %d)' "$name" "$secs" "$rc")")
  fi
  say "${results[-1]}  $(date -u +%H:%M:%S)  log: $log"
  if [ "$rc" != 0 ]; then
    grep -a -E '\[ERROR\] (Tests run:|Failures:|  |.*(FAIL|ERROR)!)|BUILD FAILURE' "$log" | head -20 \
      | sed 's/^/    /' | tee -a "$out/summary.txt" || true
  fi
}

for ((n = 1; n <= runs; n++)); do
  run "default-$n" "$out/default-$n.log" ./mvnw -B -ntp verify "${mvn_args[@]}"
done
if [ "${SKIP_E2E:-}" != 1 ]; then
  run "e2e" "$out/e2e.log" env KUBEOS_E2E=required ./mvnw -B -ntp verify -Pe2e -pl kubeos-cli \
    -am -Dspotless.check.skip=true -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false -DskipITs
fi

say "# load after: $(uptime)"
say "== summary: $((${#results[@]} - failed))/${#results[@]} passed"
for r in "${results[@]}"; do say "   $r"; done
say "logs: $out"
[ "$failed" = 0 ]
