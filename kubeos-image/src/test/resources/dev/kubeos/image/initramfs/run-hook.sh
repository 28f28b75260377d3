#!/bin/sh
# Runs the initramfs hook as the initramfs would, in a private mount namespace (the caller runs
# this under `unshare -m --propagation private`): a chroot with the host's /usr, /proc with the
# given kernel command line, PERSIST as a block device (loop over an ext4 image), initramfs-tools'
# functions replaced by printing ones. Prints the hook's output, then what /etc shows.
# usage: run-hook.sh HOOK WORKDIR PERSIST_IMG CMDLINE
set -e
hook=$1
w=$2
img=$3
cmdline=$4
r=$w/chroot
mkdir -p "$r/usr" "$r/proc" "$r/dev/disk/by-partlabel" "$r/scripts" "$r/root/etc" \
  "$r/root/persist" "$r/root/var" "$r/tmp"
for l in bin lib lib64 sbin; do
  if [ -L "/$l" ]; then ln -s "usr/$l" "$r/$l"; fi
done
mount --bind /usr "$r/usr"
mount -t proc proc "$r/proc"
printf '%s\n' "$cmdline" >"$w/cmdline"
mount --bind "$w/cmdline" "$r/proc/cmdline"
loop=$(losetup -f --show "$img")
trap 'losetup -d "$loop"' EXIT
set -- $(stat -L -c '%t %T' "$loop")
mknod "$r/dev/disk/by-partlabel/PERSIST" b $((0x$1)) $((0x$2))
cat >"$r/scripts/functions" <<'F'
panic() { echo "PANIC: $*"; exit 1; }
log_success_msg() { echo "SUCCESS: $*"; }
log_warning_msg() { echo "WARNING: $*"; }
F
cp "$hook" "$r/hook"
echo "lower" >"$r/root/etc/hosts"
echo "lower" >"$r/root/etc/motd"
rc=0
chroot "$r" /bin/sh -c 'rootmnt=/root; export rootmnt; /bin/sh /hook' || rc=$?
echo "hook exit: $rc"
echo "hosts: $(cat "$r/root/etc/hosts")"
echo "motd: $(cat "$r/root/etc/motd" 2>/dev/null || echo absent)"
grep ' kubeos-etc ' /proc/self/mountinfo | sed 's/.* - //'
