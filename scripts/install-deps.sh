#!/usr/bin/env bash
# Installs the Debian 12 packages KubeOS for Java needs to build, test and run its demo.
# Idempotent: does nothing when everything is already present. Needs root (or sudo).
# Usage: scripts/install-deps.sh [--with-qemu]   (--with-qemu: also what the QEMU demo and the e2e
# tier need; ./kubeos demo and scripts/test.sh pass it, ./kubeos demo --quick does not)
set -euo pipefail

PACKAGES=(
  openjdk-17-jdk-headless  # build + run (Java 17 is the baseline)
  gdisk                    # sgdisk: GPT disk images for tests and the demo
  fdisk                    # partx / sfdisk: cross-check of the pure-Java GPT reader
  e2fsprogs                # mkfs.ext4 -d: root file systems for slots
  dosfstools mtools        # FAT ESP images
  grub-common              # grub-editenv: cross-check of the boot env blocks; grub-mkstandalone
  grub-efi-amd64-bin       # GRUB x86_64-efi modules: the image builder's EFI loader
  debootstrap              # image builder: Debian root file systems (only builds as root use it)
  curl coreutils           # benchmark baselines
  python3                  # SocketActivationIT: hands a listening socket to the agent on fd 0, as systemd does
  openssl                  # KeysIT: keys made by openssl must be readable by the signing code
  docker-registry          # OCI payload tests: CNCF distribution 2.8 on 127.0.0.1 (RegistryServer)
  skopeo                   # OciSignatureIT pushes with it; baseline of bench/oci-bench.sh
  runc                     # ContainerImageIT runs the built kubeos image under a real OCI runtime
)
if [ "${1:-}" = "--with-qemu" ]; then
  PACKAGES+=(
    qemu-system-x86        # QEMU (TCG) boots the built disk images: ./kubeos demo, QemuBootE2E
    ovmf                   # UEFI firmware for those boots (GRUB EFI from the ESP)
    busybox-static         # NodeImageE2E: the container image it makes on the host and runs in the guest
    socat                  # ClusterE2E: guestfwd cmd: relays from the guests to 127.0.0.1 servers
  )
fi

# One dpkg-query for all (./kubeos runs this before every command: 14 calls took 0.1-0.7 s)
installed=$'\n'$(dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null || true)$'\n'
missing=()
for p in "${PACKAGES[@]}"; do
  [[ $installed == *$'\n'"$p install ok installed"$'\n'* ]] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
