#!/usr/bin/env bash
# Measures issue 5's figures with the demo itself: image build per step (rootfs cold or cached),
# sizes, boot-to-healthy, and the upgrade split (stage / activate / reboot / health + commit).
# Usage: bench/demo-bench.sh [--cold]   (as root; --cold: a fresh, empty rootfs cache, i.e. a real
# debootstrap from deb.debian.org, instead of ~/.cache/kubeos/image)
# Output: the demo's log with the load (uptime) before and after, in .work/bench/demo-<time>.log,
# followed by the sizes the demo left in .work/demo (du: apparent and allocated).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mkdir -p "$here/.work/bench"
log="$here/.work/bench/demo-$(date -u +%Y%m%dT%H%M%SZ).log"
args=()
if [ "${1:-}" = "--cold" ]; then
  cache=$(mktemp -d "$here/.work/bench/cache.XXXXXX")
  args=(--cache-dir "$cache")
fi
{
  echo "# $(date -u +%FT%TZ) $(nproc) cores, load before: $(uptime)"
  "$here/kubeos" demo "${args[@]}"
  echo "# load after: $(uptime)"
  echo "# sizes now (apparent / allocated, MiB; v1's disk.img after the upgrade, ROOT-B written):"
  for f in "$here"/.work/demo/v1.0.0/out/disk.img "$here"/.work/demo/v2.0.0/out/rootfs-2.0.0.img \
           "$here"/.work/demo/v2.0.0/out/rootfs-2.0.0.tar; do
    echo "#   $(basename "$f"): $(du -m --apparent-size "$f" | cut -f1) / $(du -m "$f" | cut -f1)"
  done
} 2>&1 | tee "$log"
[ -z "${cache:-}" ] || rm -rf "$cache"
echo "log: $log"
