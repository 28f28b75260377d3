#!/usr/bin/env bash
# Delta payload macro benchmark: v1 = a real KubeOS/Debian rootfs, v2 = v1 plus one Debian package
# (installed from this host's files: `dpkg -L PKG`, its dpkg status stanza) and a new os-release;
# both made into 1 GiB ext4 images exactly as `kubeos image build` does (mkfs.ext4 -d, label
# KUBEOS-ROOT, a UUID per version). Prints `kubeos image delta-stats` and the staging side by side
# (full raw vs delta, loopback http, real GPT disk image).
# Usage: bench/delta-bench.sh [ROOTFS.tar] [PACKAGE]   (defaults: a cached rootfs tarball, strace)
# Needs root (the tarball holds device nodes and root-owned files), mkfs.ext4, sgdisk, fallocate,
# dpkg; ~5 GiB free under .work/.
set -euo pipefail
cd "$(dirname "$0")/.."
tar_file=${1:-}
pkg=${2:-strace}
if [[ -z $tar_file ]]; then
  tar_file=$(ls -1 "$HOME"/.cache/kubeos/image/rootfs-*.tar .work/*/rootfs-*.tar .work/e2e-cache/rootfs-*.tar 2>/dev/null | head -1 || true)
fi
[[ -f $tar_file ]] || { echo "no rootfs tarball: pass one (e.g. out/rootfs-1.0.0.tar)" >&2; exit 2; }
work=.work/delta-bench
mkdir -p "$work"
rm -rf "$work/v1" "$work/v2" "$work/run"
mkdir -p "$work/v1"
tar -xf "$tar_file" -C "$work/v1" --numeric-owner
cp -a "$work/v1" "$work/v2"
dpkg -L "$pkg" | while read -r f; do
  if [[ -f $f ]]; then cp --parents -a "$f" "$work/v2/" 2>/dev/null || echo "skipped $f"; fi
done
dpkg-query -s "$pkg" >> "$work/v2/var/lib/dpkg/status"
dpkg -L "$pkg" > "$work/v2/var/lib/dpkg/info/$pkg.list"
for f in etc/os-release usr/lib/os-release; do
  [[ -f $work/v2/$f ]] && sed -i 's/^PRETTY_NAME=.*/PRETTY_NAME="KubeOS 2.0.0"/; s/^VERSION_ID=.*/VERSION_ID="2.0.0"/' "$work/v2/$f"
done
echo "v2 adds $pkg: $(dpkg-query -W -f='${Installed-Size}' "$pkg") KiB installed"
for v in v1 v2; do
  mkfs.ext4 -q -F -t ext4 -L KUBEOS-ROOT -U "$(cat /proc/sys/kernel/random/uuid)" \
    -E root_owner=0:0 -d "$work/$v" "$work/$v.img" 1048576k
done
if [[ -n ${KUBEOS_PREPARE_ONLY:-} ]]; then exit 0; fi
./mvnw -q -B -pl bench -am package dependency:build-classpath \
  -Dmdep.outputFile=target/classpath.txt -DskipTests -Dspotless.check.skip=true
java -jar kubeos-cli/target/kubeos.jar image delta-stats "$work/v1.img" "$work/v2.img"
exec java -Xmx1g -cp "bench/target/classes:$(cat bench/target/classpath.txt)" \
  dev.kubeos.bench.DeltaBench "$work/v1.img" "$work/v2.img" "$work/run"
