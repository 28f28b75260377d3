#!/usr/bin/env bash
# Proves the kubeos image is reproducible: builds it twice from nothing (the image base tree, its
# cache and Jib's layer cache are new for each build, so the runtime is jlink'd and every layer is
# made again), and compares the two image digests and tree digests. Exit 0 only when both builds
# give the same image digest. (The downloaded .debs are reused: their sha256 is checked against
# the lock on every use.)
# Usage: scripts/check-image-reproducible.sh     (about two package builds of kubeos-container)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
target=kubeos-container/target
digests=()
scratch=$(mktemp -d); trap 'rm -rf "$scratch"' EXIT
for run in 1 2; do
  rm -rf "$target/image-base" "$target/jib-cache" "$target/kubeos-image.tar" "$target/jib-image.digest"
  KUBEOS_IMAGE_BASE_CACHE=$scratch/base-$run \
    ./mvnw -B -ntp -q package -DskipTests -Dspotless.check.skip=true -pl kubeos-container -am
  d=$(cat "$target/jib-image.digest")
  echo "build $run: image $d, base tree sha256:$(cat "$target/image-base/tree.sha256"), tarball sha256:$(sha256sum "$target/kubeos-image.tar" | cut -d' ' -f1)"
  digests+=("$d")
done
if [ "${digests[0]}" = "${digests[1]}" ]; then
  echo "reproducible: both builds gave ${digests[0]}"
else
  echo "NOT reproducible: ${digests[0]} != ${digests[1]}" >&2; exit 1
fi
