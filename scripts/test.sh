#!/usr/bin/env bash
# The project's test command (README, CI): installs what the tests need, then runs every test tier
# that fits the CI budget: unit tests (*Test), integration tests on real local tools (*IT), the
# formatting and layering checks.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
scripts/install-deps.sh
./mvnw -B -ntp verify "$@"
