#!/usr/bin/env bash
# The project's test command (README, CI): installs what the tests need, then runs every test tier:
#   stage 1: unit tests (*Test), integration tests on real local tools (*IT), formatting, layering;
#   stage 2: the QEMU end-to-end tier (*E2E, kubeos-cli): builds Debian images (the rootfs is cached
#            in ~/.cache/kubeos/image; a cold cache adds a debootstrap of 6-9 min), then boots them
#            under QEMU, two test classes at a time: the demo's upgrade and the node image side by
#            side, then the whole system (docs/image-builder.md, docs/benchmarks.md "Whole system
#            in QEMU").
# Stage 2 needs root, qemu-system-x86 and ovmf; KUBEOS_E2E=required makes their absence a failure
# (not a skip). SKIP_E2E=1 runs stage 1 only (for a quick local run).
# At its end (pass or fail) it prints a table of each stage's time in seconds.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
stages=() seconds=() current="" since=$(date +%s) t0=$(date +%s)
# ends the running stage (if any) and starts the next; "" only ends it
stage() {
  local now
  now=$(date +%s)
  if [ -n "$current" ]; then stages+=("$current"); seconds+=($((now - since))); fi
  current="$1" since=$now
  [ -z "$1" ] || printf '\n===== %s: %s (%s) =====\n\n' "$1" "$2" "$(date -u +%H:%M:%S)"
}
times() {
  local rc=$? i
  if [ -n "$current" ]; then
    stages+=("$current$([ "$rc" = 0 ] || echo ' (FAILED)')"); seconds+=($(($(date +%s) - since)))
  fi
  printf '\n%-40s %8s\n' "stage" "seconds"
  for i in "${!stages[@]}"; do printf '%-40s %8d\n' "${stages[$i]}" "${seconds[$i]}"; done
  printf '%-40s %8d\n' "total" $(($(date +%s) - t0))
}
trap times EXIT

stage "dependencies" "scripts/install-deps.sh"
if [ "${SKIP_E2E:-}" = 1 ]; then scripts/install-deps.sh; else scripts/install-deps.sh --with-qemu; fi

stage "stage 1/2 (mvnw verify)" "unit + integration tests, checks"
./mvnw -B -ntp verify "$@"

if [ "${SKIP_E2E:-}" = 1 ]; then
  stage "" ""
  printf '\n===== stage 2/2: QEMU e2e SKIPPED (SKIP_E2E=1) =====\n'
  exit 0
fi
stage "stage 2/2 (QEMU e2e)" "./mvnw verify -Pe2e -pl kubeos-cli (QemuBootE2E, NodeImageE2E, ClusterE2E)"
# Only the E2E execution runs: unit tests and ITs already passed in stage 1 (-Dtest=none,
# -DskipITs; the e2e execution is not affected by skipITs), the modules are not recompiled.
export KUBEOS_E2E=required
./mvnw -B -ntp verify -Pe2e -pl kubeos-cli -am -Dspotless.check.skip=true \
  -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false -DskipITs "$@"
stage "" ""
printf '\n===== done: all tiers passed (%s) =====\n' "$(date -u +%H:%M:%S)"
