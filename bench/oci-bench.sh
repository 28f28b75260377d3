#!/usr/bin/env bash
# Pull-and-stage of an upstream-style OS image (~1 GiB /os.tar in one layer) from Debian's
# docker-registry on 127.0.0.1, ours versus `skopeo copy docker://... dir:` of the same image.
# Usage: bench/oci-bench.sh [--dir /var/tmp] [--size-mib 1024] [--runs 3] [--gzip]
# Needs: docker-registry, skopeo, e2fsprogs, gdisk; ~4x the payload size free in --dir.
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -q -B -pl bench -am package dependency:build-classpath \
  -Dmdep.outputFile=target/classpath.txt -DskipTests -Dspotless.check.skip=true ${KUBEOS_MVN_ARGS:-}
exec java -Xmx1g -cp "bench/target/classes:$(cat bench/target/classpath.txt)" \
  dev.kubeos.bench.OciBench "$@"
