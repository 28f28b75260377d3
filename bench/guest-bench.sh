#!/usr/bin/env bash
# Guest figures of issue 14 in one QEMU guest (the demo's image, TCG, OVMF + GRUB, no network):
#   - the CPU model and what the JVM makes of it (features, UseSHA/UseAVX ...);
#   - cold starts: `java -version` next to `kubeos agent status` with several JVM flag sets;
#   - the in-guest stage of the same 1 GiB raw payload by the agent (tiered C2 and C1 only) next to
#     the shell (`dd | tee >(sha256sum) | dd`, and `sha256sum` then `dd`), all from the job disk;
#   - JIT stress with tiered C2 (SHA-256 loops, repeated small stages), hs_err files if any;
#   - then stage + activate, reboot into the trial: the health gate (check + commit) as timed by
#     systemd (kubeos-health.service start → exit).
# Usage: sudo bench/guest-bench.sh [--cpu MODEL] [--tcg-thread single|multi] [--rounds N]
#                                  [--hash-seconds S] [--no-shell] [--no-trial] [--gate-only] [--qemu 'ARGS']
#   --cpu: QEMU CPU model (default: the e2e harness's, dev.kubeos.cli.demo.QemuGuest.CPU)
#   --rounds: JIT stress rounds (0: none); --no-shell: only the agent's tiered-C2 stage, without
#   the shell baselines and the C1 stage; --no-trial: no activate + second boot (no health gate);
#   --gate-only: boot 1 only stages and activates (no cold starts, no hash loops, no baselines);
#   --qemu: more QEMU arguments for an experiment (e.g. '-vga none')
# Needs root, qemu-system-x86, ovmf, a JDK 17+; builds the jar (./mvnw package), the agent runtime
# and a v1 image (rootfs from the image cache ~/.cache/kubeos/image, debootstrap when cold).
# Output: a table of the BENCH figures; console logs and the table in .work/guest-bench/.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cpu=$(sed -n 's/.*String CPU = "\(.*\)";.*/\1/p' "$here/kubeos-cli/src/main/java/dev/kubeos/cli/demo/QemuGuest.java")
thread=multi rounds=2 hashsec=20 trial=1 side=1 extra= gateonly=0
while [ $# -gt 0 ]; do
  case "$1" in
    --cpu) cpu=$2; shift 2 ;;
    --tcg-thread) thread=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --hash-seconds) hashsec=$2; shift 2 ;;
    --no-trial) trial=0; shift ;;
    --no-shell) side=0; shift ;;
    --qemu) extra=$2; shift 2 ;;
    --gate-only) gateonly=1; shift ;;
    *) echo "unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "run as root (the image build uses chroot)" >&2; exit 2; }
command -v qemu-system-x86_64 >/dev/null || { echo "apt-get install qemu-system-x86 ovmf" >&2; exit 2; }
W=$here/.work/guest-bench
run=$W/run-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$W" "$run/job"
jar=$here/kubeos-cli/target/kubeos.jar
rt=$here/kubeos-cli/target/agent-runtime
if [ ! -f "$jar" ] || [ -n "$(find "$here"/kubeos-*/src "$here"/deploy -newer "$jar" -print -quit)" ]; then
  (cd "$here" && ./mvnw -B -ntp -q package -DskipTests -Dspotless.check.skip=true -pl kubeos-cli -am)
fi
if [ ! -x "$rt/bin/java" ] || ! cmp -s "$here/kubeos-cli/target/kubeos-agent.jar" "$rt/kubeos.jar"; then
  "$here/scripts/build-agent-runtime.sh" "$rt"
fi
# the demo's v1 image: the probe unit runs /run/job/job.sh from the job disk
img=$W/img
if [ ! -f "$img/out/disk.img" ] || [ -n "$(find "$rt/kubeos.jar" "$here/deploy/systemd" "$here/kubeos-cli/src/main/resources/dev/kubeos/cli/demo" -newer "$img/out/disk.img" -print -quit)" ]; then
  rm -rf "$img"; mkdir -p "$img"
  cp "$here"/kubeos-cli/src/main/resources/dev/kubeos/cli/demo/kubeos-probe{,.service} "$img/"
  cat > "$img/kubeos.toml" <<TOML
version = "1.0.0"
[[files]]
source = "kubeos-probe"
target = "/usr/local/sbin/kubeos-probe"
mode = "0755"
[[files]]
source = "kubeos-probe.service"
target = "/etc/systemd/system/kubeos-probe.service"
[systemd]
enable = ["kubeos-probe.service"]
[partitions]
esp_mib = 32
root_mib = 1024
persist_mib = 256
[kernel]
cmdline = "console=ttyS0,115200"
[agent]
runtime = "$rt"
TOML
  java -jar "$jar" image build "$img/kubeos.toml" -o "$img/out" > "$img/build.log" 2>&1 \
    || { tail -20 "$img/build.log"; exit 1; }
fi
# the job disk: the bench script, settings, HashLoop, the 1 GiB payload, a 16 MiB ext4 payload
javac --release 17 -d "$run/job" "$here/bench/guest/HashLoop.java"
cp "$here/bench/guest/guest-job.sh" "$run/job/"
printf '%s\n' 'bash /run/job/guest-job.sh' 'if [ -f /run/bench-reboot ]; then systemctl reboot; exit 0; fi' > "$run/job/job.sh"
ln "$img/out/rootfs-1.0.0.img" "$run/job/payload.img" 2>/dev/null || cp "$img/out/rootfs-1.0.0.img" "$run/job/payload.img"
mkdir -p "$run/small-src"; head -c 8M /dev/urandom > "$run/small-src/noise"
mkfs.ext4 -q -F -d "$run/small-src" "$run/job/small.img" 16M
# the flags under test: the health unit's (from deploy/systemd) and the probe's stage flags
health_flags=$(sed -n 's|^ExecStart=/usr/lib/kubeos/runtime/bin/java \(.*\) -jar .*|\1|p' "$here/deploy/systemd/kubeos-health.service")
probe=$here/kubeos-cli/src/main/resources/dev/kubeos/cli/demo/kubeos-probe
stage_flags="$(sed -n 's|^STAGE_JIT="\(.*\)"$|\1|p' "$probe") $(sed -n 's|^CDS_MAP="\(.*\)"$|\1|p' "$probe")"
cat > "$run/job/bench.env" <<ENV
BENCH_CPU='$cpu'
BENCH_JIT='tcg thread=$thread'
BENCH_TRIAL=$trial
PAYLOAD_SHA=$(sha256sum "$run/job/payload.img" | cut -d' ' -f1)
SMALL_SHA=$(sha256sum "$run/job/small.img" | cut -d' ' -f1)
HEALTH_FLAGS='$health_flags'
STAGE_FLAGS='$stage_flags'
STRESS_ROUNDS=$rounds
SIDE_BY_SIDE=$side
GATE_ONLY=$gateonly
HASH_SECONDS=$hashsec
ENV
size=$(( $(du -k --apparent-size -s "$run/job" | cut -f1) + 65536 ))
mkfs.ext4 -q -F -L KUBEOS-JOB -d "$run/job" "$run/job.img" "${size}k"
cp --sparse=always "$img/out/disk.img" "$run/disk.img"
cp /usr/share/OVMF/OVMF_VARS_4M.fd "$run/vars.fd"
{ echo "# $(date -u +%FT%TZ) host $(nproc) cores, load before: $(uptime)"
  echo "# qemu $(qemu-system-x86_64 --version | head -1); -cpu $cpu -accel tcg,thread=$thread -smp 2 -m 1024 $extra"; } | tee "$run/figures.txt"
for boot in 1 2; do
  t0=$(date +%s)
  # shellcheck disable=SC2086
  timeout 2400 qemu-system-x86_64 -machine q35 -cpu "$cpu" -accel tcg,thread="$thread" -smp 2 -m 1024 $extra \
    -nographic -monitor none -serial stdio -no-reboot -nic none \
    -drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \
    -drive if=pflash,format=raw,unit=1,file="$run/vars.fd" \
    -drive file="$run/disk.img",format=raw,if=virtio \
    -drive file="$run/job.img",format=raw,if=virtio,readonly=on </dev/null 2>&1 \
    | stdbuf -o0 tr -d '\r' > "$run/boot-$boot.log" || true
  echo "# boot $boot: $(( $(date +%s) - t0 )) s, console $run/boot-$boot.log" | tee -a "$run/figures.txt"
  grep -q BENCH-REBOOT "$run/boot-$boot.log" || break
done
echo "# load after: $(uptime)" | tee -a "$run/figures.txt"
cat "$run"/boot-*.log | grep -a -E '^(BENCH|PROBE-(STATUS|HEALTH|BOOT))' | sed 's/^BENCH-CPUINFO \(.\{200\}\).*/BENCH-CPUINFO \1.../' | tee -a "$run/figures.txt"
# ratios: agent stage against the shell, status against java -version, the health gate
awk '/^BENCH-T /{t[$2]=$3}
  /^BENCH-HEALTHLOG .*health: (passed|failed) [0-9]+ checks in [0-9]+ ms/ {
    for (i = 1; i < NF; i++) if ($i == "in" && $(i+2) == "ms") checks = $(i+1) }
  END {

  if (t["shell-tee-sha256sum-dd"]) printf "stage: agent (probe flags) / sha256sum then dd = %.2f, / the same with read-back = %.2f, / tee pipeline = %.2f; agent C1 only / sha256sum then dd = %.2f\n", t["agent-stage-c2"]/t["shell-sha256sum-then-dd"], t["agent-stage-c2"]/t["shell-sha256sum-dd-readback"], t["agent-stage-c2"]/t["shell-tee-sha256sum-dd"], t["agent-stage-c1"]/t["shell-sha256sum-then-dd"]
  if (t["java-version#2"]) printf "cold start: status (health flags) / java -version = %.2f (%d / %d ms); status (AppCDS) / java -version = %.2f\n", t["status-health-flags#2"]/t["java-version#2"], t["status-health-flags#2"], t["java-version#2"], t["status-appcds#2"]/t["java-version#2"]
  if (t["health-gate-unit"]) printf "health gate: %.1f s, its checks %.1f s (the slowest check at most that), so %.1f s beyond the slowest check\n", t["health-gate-unit"]/1000, checks/1000, (t["health-gate-unit"]-checks)/1000
}' "$run/figures.txt" | tee -a "$run/figures.txt"
grep -a -c 'BENCH-CRASH ' "$run/figures.txt" | sed 's/^/JVM crashes: /' | tee -a "$run/figures.txt"
echo "figures: $run/figures.txt"
