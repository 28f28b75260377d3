#!/usr/bin/env bash
# A delta stage (and a full raw stage) of the 1 GiB bench images through the CLI under the agent
# unit's own JVM flags (deploy/systemd/kubeos-agent.service: 48 MiB heap, serial GC, C2 with two
# compiler threads), from file:// URLs on a sgdisk GPT disk file; prints wall time and peak RSS.
# Uses .work/delta-bench/v{1,2}.img and v2.img.chunkidx as bench/delta-bench.sh leaves them.
# Usage: bench/unit-delta-bench.sh      Needs: sgdisk, fallocate, /usr/bin/time; kubeos.jar built.
#   JAVA=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java AOT=1 bench/unit-delta-bench.sh
#   also trains a JDK 25 AOT cache on one delta stage (-XX:AOTCacheOutput) and stages with it.
set -euo pipefail
cd "$(dirname "$0")/.."
v1=.work/delta-bench/v1.img
v2=.work/delta-bench/v2.img
jar=kubeos-cli/target/kubeos.jar
[[ -f $v1 && -f $v2 && -f $v2.chunkidx ]] || { echo "run bench/delta-bench.sh first (it makes the images and v2's index)" >&2; exit 2; }
[[ -f $jar ]] || { echo "build $jar first (./mvnw -pl kubeos-cli -am package -DskipTests)" >&2; exit 2; }
w=.work/unit-delta
rm -rf "$w" && mkdir -p "$w/esp" "$w/state"
flags=$(sed -n 's|^ExecStart=/usr/lib/kubeos/runtime/bin/java \(.*\) -jar .*|\1|p' \
  deploy/systemd/kubeos-agent.service | sed 's| -XX:+AutoCreateSharedArchive -XX:SharedArchiveFile=[^ ]*||')
echo "JVM flags of the unit: $flags"
disk=$w/disk.img
truncate -s $(( (2 + 16 + 1100 + 1100 + 64) * 1024 * 1024 )) "$disk"
sgdisk -o -n 1:0:+16M -t 1:EF00 -c 1:ESP -n 2:0:+1100M -t 2:8304 -c 2:ROOT-A \
  -n 3:0:+1100M -t 3:8304 -c 3:ROOT-B -n 4:0:+64M -t 4:8300 -c 4:PERSIST "$disk" >/dev/null
start() { sgdisk -i "$1" "$disk" | sed -n 's/^First sector: \([0-9]*\).*/\1/p'; }
dd if="$v1" of="$disk" bs=4M seek=$(( $(start 2) * 512 )) oflag=seek_bytes conv=notrunc status=none
sha() { sha256sum "$1" | cut -d' ' -f1; }
sha2=$(sha "$v2")
agent() {
  # shellcheck disable=SC2086
  /usr/bin/time -f '%e s wall, %M KiB peak RSS' "${JAVA:-java}" $flags ${extra:-} -jar "$jar" agent --disk "$disk" \
    --boot-dir "$w/esp" --state-dir "$w/state" --booted-slot A --trust-dir "$w/none" "$@"
}
agent init --version 1 --sha256 "$(sha "$v1")" >/dev/null
punchb() { fallocate --punch-hole --offset $(( $(start 3) * 512 )) --length $(( 1100 * 1024 * 1024 )) "$disk"; sync; }
sync
echo "full raw stage (file://):"; punchb
agent stage --format raw --url "file://$PWD/$v2" --sha256 "$sha2" --version 2 2>&1 | tail -1
echo "delta stage (file:// index, seed = slot A, B empty):"; punchb
agent stage --format delta --url "file://$PWD/$v2.chunkidx" --sha256 "$sha2" --version 2 2>&1 | tail -1
if [[ -n ${AOT:-} ]]; then
  delta() { agent stage --format delta --url "file://$PWD/$v2.chunkidx" --sha256 "$sha2" --version 2 2>&1 | tail -1; }
  echo "training an AOT cache on one delta stage:"; punchb
  extra="-XX:AOTCacheOutput=$w/agent.aot" delta
  for i in 1 2 3; do
    echo "delta stage with the AOT cache:"; punchb; extra="-XX:AOTCache=$w/agent.aot" delta
    echo "delta stage without:"; punchb; delta
  done
fi
