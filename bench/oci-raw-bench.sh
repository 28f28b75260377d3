#!/usr/bin/env bash
# The KubeOS OS artifact (raw image + chunk index) of a one-package upgrade, staged from Debian's
# docker-registry on 127.0.0.1: whole (raw blob into the slot) and as a delta from the booted slot
# (Range requests on the registry blob), side by side with `skopeo copy` of the same blob.
# Uses the v1/v2 images of bench/delta-bench.sh (.work/delta-bench/v{1,2}.img), making them first
# with that script's recipe when they are missing.
# Usage: bench/oci-raw-bench.sh [RUNS] [ROOTFS.tar]   (default 3; the tarball as for delta-bench.sh)
# Needs: docker-registry, skopeo, e2fsprogs, gdisk, fallocate; root to make the images.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
work=.work/delta-bench
if [[ ! -f $work/v1.img || ! -f $work/v2.img ]]; then
  echo "making $work/v1.img and v2.img with bench/delta-bench.sh's recipe" >&2
  KUBEOS_PREPARE_ONLY=1 bench/delta-bench.sh ${2:-}
fi
./mvnw -q -B -pl bench -am package dependency:build-classpath \
  -Dmdep.outputFile=target/classpath.txt -DskipTests -Dspotless.check.skip=true ${KUBEOS_MVN_ARGS:-}
echo "load before: $(uptime)"
java -Xmx1g -cp "bench/target/classes:$(cat bench/target/classpath.txt)" \
  dev.kubeos.bench.OciRawBench "$work/v1.img" "$work/v2.img" .work/oci-raw-bench "$runs"
echo "load after: $(uptime)"
