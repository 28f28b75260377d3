#!/usr/bin/env bash
# Assembles the base root file system of the `kubeos` container image, distroless-style, from
# Debian 12 packages: glibc, libgcc/libstdc++ (Debian's libjvm links them), zlib, CA
# certificates, tzdata, and a Java runtime jlink'd from the installed openjdk-17-jdk-headless.
# No base image comes from any registry: Jib lays this tree over `scratch`
# (kubeos-container/pom.xml), in its own layer.
#
# Usage: scripts/build-image-base.sh OUT_DIR [LOCK_FILE]
#        scripts/build-image-base.sh --refresh-lock [LOCK_FILE]
#   LOCK_FILE (default kubeos-container/debian-packages.lock): "name version sha256" per package,
#   the pinned inputs. A locked .deb is fetched with `apt-get download name=version` once and kept
#   in ${KUBEOS_DEB_CACHE:-~/.cache/kubeos/debs}; its sha256 must match the lock, always.
#   Debian's archive serves only the newest version of a package, so a locked version disappears
#   when a security update lands. Then, by default, the current candidate is used with a warning
#   (the image is still reproducible for the versions it records); with
#   KUBEOS_IMAGE_PACKAGES=locked the build fails instead (release builds). --refresh-lock rewrites
#   the lock with today's candidates.
#   The JDK is the installed one (jlink needs its jmods); its version is checked the same way.
# Output: OUT_DIR/root (the tree), OUT_DIR/packages.txt (the versions used), OUT_DIR/tree.sha256
# (one digest over every path, type, mode and content: equal trees, equal digest). A tree built
# from exactly the locked packages is also kept in ${KUBEOS_IMAGE_BASE_CACHE:-~/.cache/kubeos/image-base}
# under a stamp of this script, the lock and the JDK, and reused only while it matches its digest.
# Reproducible: the same packages and JDK give the same tree; Jib then fixes every timestamp and
# orders the entries, so the image digest follows (scripts/check-image-reproducible.sh).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export LC_ALL=C

refresh=false
if [ "${1:-}" = "--refresh-lock" ]; then refresh=true; shift; out=""; else
  out=${1:?usage: build-image-base.sh OUT_DIR [LOCK_FILE] | --refresh-lock [LOCK_FILE]}; shift
fi
lock=${1:-$here/kubeos-container/debian-packages.lock}
cache=${KUBEOS_DEB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubeos/debs}
jdk=/usr/lib/jvm/java-17-openjdk-amd64
jdk_package=openjdk-17-jdk-headless
# The packages of the base, in the order they are laid down (later ones win on a shared path).
packages=(libc6 libgcc-s1 libstdc++6 zlib1g ca-certificates tzdata)
# The runtime's modules: what `jdeps --print-module-deps` finds in kubeos.jar, minus those only
# optional code paths use (java.desktop: java.beans probes in Jackson/SnakeYAML/commons; java.compiler:
# Vert.x's verticle compiler; jdk.jfr: Netty's optional JFR events), plus what is loaded as a
# service and jdeps cannot see: jdk.crypto.ec (ECDSA/ECDH TLS: kind, k3s and kubeadm API servers).
# jdk.naming.dns is not needed (the JDK resolves names through glibc). Proven by running:
# ContainerImageIT starts `kubeos operator` from the image against a TLS API server (fabric8's
# mock server), which wins the Lease, reconciles and serves /metrics.
modules=java.base,java.logging,java.management,java.naming,java.net.http,java.sql,jdk.crypto.ec,jdk.httpserver,jdk.management,jdk.unsupported

die() { echo "build-image-base: $*" >&2; exit 1; }
candidate() { apt-cache policy "$1" | awk '/Candidate:/{print $2}'; }
installed() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true; }

if $refresh; then
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  {
    echo "# Debian 12 packages of the kubeos image base: name version sha256 (scripts/build-image-base.sh)"
    for p in "${packages[@]}"; do
      v=$(candidate "$p"); [ -n "$v" ] && [ "$v" != "(none)" ] || die "no candidate for $p (apt-get update?)"
      (cd "$tmp" && apt-get download -q "$p=$v" >/dev/null 2>&1) || die "cannot download $p=$v"
      f=$(ls "$tmp"/"${p}"_*.deb); echo "$p $v $(sha256sum "$f" | cut -d' ' -f1)"; rm -f "$f"
    done
    echo "$jdk_package $(installed "$jdk_package") installed"
  } > "$lock"
  echo "build-image-base: wrote $lock"; exit 0
fi

[ -f "$lock" ] || die "no lock file $lock"
[ -x "$jdk/bin/jlink" ] || die "no $jdk/bin/jlink: scripts/install-deps.sh installs $jdk_package"
strict=false; [ "${KUBEOS_IMAGE_PACKAGES:-}" = "locked" ] && strict=true
# up to date when this script, the lock, the mode and the installed JDK are what built OUT_DIR
stamp=$(cat "${BASH_SOURCE[0]}" "$lock" <(echo "$strict $(installed "$jdk_package")") | sha256sum | cut -d' ' -f1)
if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$stamp" ] && [ -d "$out/root" ]; then
  echo "image base: $out/root is up to date (tree sha256:$(cat "$out/tree.sha256"))"; exit 0
fi
# one digest over a tree: path, type, executable bit (what Jib's permissions keep) and content
tree_digest() {
  (cd "$1" && { find . -mindepth 1 -type d -printf 'd %p\n'; find . -type f -perm /111 -printf 'x %p\n'
    find . -type f -print0 | xargs -0 sha256sum; } | sort) | sha256sum | cut -d' ' -f1
}
# A tree built from exactly the locked packages is kept per stamp (clean builds skip the jlink);
# it is used only if its content still has the digest it was stored with.
stored=${KUBEOS_IMAGE_BASE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubeos/image-base}/$stamp
rm -rf "$out"; mkdir -p "$(dirname "$out")"
if [ -f "$stored/tree.sha256" ] && [ -d "$stored/root" ]; then
  cp -a "$stored" "$out"
  if [ "$(tree_digest "$out/root")" = "$(cat "$out/tree.sha256")" ]; then
    echo "image base: $out/root from $stored (tree sha256:$(cat "$out/tree.sha256"))"; exit 0
  fi
  echo "build-image-base: $stored does not match its digest, building anew" >&2
  rm -rf "$out" "$stored"
fi
mkdir -p "$cache"
mkdir -p "$out/root"
drifted=false
root=$out/root
: > "$out/packages.txt"

drift() { # name locked used
  if $strict; then die "$1 $2 is locked but Debian now serves $3 (KUBEOS_IMAGE_PACKAGES=locked); run scripts/build-image-base.sh --refresh-lock"; fi
  echo "build-image-base: WARNING: $1 $2 is locked but unavailable, using $3 (refresh the lock: scripts/build-image-base.sh --refresh-lock)" >&2
  drifted=true
}

fetch() { # name version -> path of the cached .deb, or nothing
  local name=$1 version=$2 file="$cache/$1=$2.deb" tmp
  if [ ! -f "$file" ]; then
    tmp=$(mktemp -d)
    if (cd "$tmp" && apt-get download -q "$name=$version" >/dev/null 2>&1); then
      mv "$tmp"/"${name}"_*.deb "$file"
    elif [ ! -f "$out/.apt-updated" ] && [ "$(id -u)" -eq 0 ]; then
      # a machine whose package lists are missing or older than the lock: refresh them once
      touch "$out/.apt-updated"; apt-get update -qq >/dev/null 2>&1 || true
      if (cd "$tmp" && apt-get download -q "$name=$version" >/dev/null 2>&1); then
        mv "$tmp"/"${name}"_*.deb "$file"
      fi
    fi
    rm -rf "$tmp"
  fi
  [ -f "$file" ] && echo "$file"
}

declare -A want sum
while read -r name version digest; do
  case "$name" in ''|'#'*) continue ;; esac
  want[$name]=$version; sum[$name]=$digest
done < "$lock"

for p in "${packages[@]}"; do
  v=${want[$p]:-}; [ -n "$v" ] || die "$p is not in $lock"
  deb=$(fetch "$p" "$v" || true)
  if [ -n "$deb" ]; then
    [ "$(sha256sum "$deb" | cut -d' ' -f1)" = "${sum[$p]}" ] || die "$deb does not match the sha256 in $lock"
  else
    c=$(candidate "$p"); drift "$p" "$v" "$c"; v=$c
    deb=$(fetch "$p" "$v" || true); [ -n "$deb" ] || die "cannot download $p=$v"
  fi
  echo "$p $v $(sha256sum "$deb" | cut -d' ' -f1)" >> "$out/packages.txt"
  dpkg-deb -x "$deb" "$root"
  # the package's control data, where image scanners (Trivy, Grype) look in distroless images
  mkdir -p "$root/var/lib/dpkg/status.d"
  dpkg-deb -f "$deb" > "$root/var/lib/dpkg/status.d/$p"
done
jv=$(installed "$jdk_package")
[ "$jv" = "${want[$jdk_package]:-}" ] || drift "$jdk_package" "${want[$jdk_package]:-none}" "$jv (installed)"
echo "$jdk_package $jv installed" >> "$out/packages.txt"
dpkg-query -s openjdk-17-jre-headless | grep -v '^Status:' > "$root/var/lib/dpkg/status.d/openjdk-17-jre-headless"

# distroless-style: libraries and data only, no shell, no tools, no docs (copyright files stay)
rm -rf "$root"/usr/share/man "$root"/usr/share/info "$root"/usr/share/lintian \
  "$root"/usr/share/locale "$root"/usr/share/gcc "$root"/usr/share/gdb \
  "$root"/usr/lib/x86_64-linux-gnu/gconv "$root"/usr/bin "$root"/usr/sbin "$root"/sbin \
  "$root"/usr/libexec "$root"/etc/ld.so.conf.d "$root"/etc/ca-certificates.conf
find "$root/usr/share/doc" -mindepth 2 ! -name copyright -delete 2>/dev/null || true

# the bundle update-ca-certificates would write (the .deb ships the certificates only)
mkdir -p "$root/etc/ssl/certs"
find "$root/usr/share/ca-certificates" -name '*.crt' | sort | xargs cat > "$root/etc/ssl/certs/ca-certificates.crt"
# UTC unless TZ says otherwise
cp "$root/usr/share/zoneinfo/Etc/UTC" "$root/etc/localtime"

# the runtime (deterministic without --generate-cds-archive: same JDK + modules, same bytes)
"$jdk/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages \
  --compress=2 --output "$root/opt/java"

# users and name service: root, the unprivileged 65532 the image runs as, nobody
printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' \
  'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' > "$root/etc/passwd"
printf '%s\n' 'root:x:0:' 'nonroot:x:65532:' 'nogroup:x:65534:' > "$root/etc/group"
printf '%s\n' 'passwd: files' 'group: files' 'hosts: files dns' > "$root/etc/nsswitch.conf"
printf '%s\n' 'PRETTY_NAME="kubeos base (Debian GNU/Linux 12 packages)"' 'NAME="Debian GNU/Linux"' \
  'ID=debian' 'VERSION_ID="12"' 'VERSION_CODENAME=bookworm' > "$root/etc/os-release"
mkdir -p "$root/home/nonroot"

# Jib copies regular files and directories only: a symbolic link becomes a copy of its target
# inside the tree (absolute targets resolve against the tree, never the build host); links to
# directories (zoneinfo/posix -> .) are dropped.
for _ in 1 2 3 4 5 6 7 8; do
  left=0
  while IFS= read -r -d '' link; do
    t=$(readlink "$link")
    case "$t" in /*) target=$root$t ;; *) target=$(dirname "$link")/$t ;; esac
    if [ -L "$target" ]; then left=1; continue; fi
    if [ -d "$target" ] || [ ! -e "$target" ]; then rm -f "$link"; continue; fi
    cp "$target" "$link.tmp" && mv -f "$link.tmp" "$link"
  done < <(find "$root" -type l -print0)
  [ "$left" = 0 ] && break
done
[ -z "$(find "$root" -type l)" ] || die "symbolic links left in $root"

rm -f "$out/.apt-updated"
tree_digest "$root" > "$out/tree.sha256"
echo "$stamp" > "$out/stamp"
if ! $drifted; then
  rm -rf "$(dirname "$stored")"; mkdir -p "$(dirname "$stored")"
  cp -a "$out" "$stored.tmp" && mv "$stored.tmp" "$stored"
fi
echo "image base: $root ($(du -sh "$root" | cut -f1), tree sha256:$(cat "$out/tree.sha256"))"
