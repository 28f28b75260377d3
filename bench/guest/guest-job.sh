# Run with bash by the job (/run/job/job.sh) that the demo probe (/usr/local/sbin/kubeos-probe)
# sources as root inside the guest; the job disk (/run/job) is made by bench/guest-bench.sh.
# Prints BENCH-* lines on the serial console (the probe's stdout).
# Boot 1: CPU and JVM view, cold starts, the stage side by side, JIT stress, then stage + activate
# and reboot into the trial. Boot 2 (the trial): the health gate as systemd timed it.
# Settings come from /run/job/bench.env (written by the host script).
. /run/job/bench.env
# the CDS archive mapped where it was dumped instead of relocated at every start (JDK 20+ default)
NORELOC="-XX:+UnlockDiagnosticVMOptions -XX:ArchiveRelocationMode=0"
RT=/usr/lib/kubeos/runtime
JAR=$RT/kubeos.jar
P=/run/job/payload.img
SMALL=/run/job/small.img
ROOTB=/dev/disk/by-partlabel/ROOT-B
ms() { echo $(( $(date +%s%N) / 1000000 )); }
# timed LABEL CMD...: runs CMD, prints "BENCH-T LABEL <ms> rc=<rc>" and CMD's last output line
# (page cache as it is: the JVM's files are cached after the first run, the JVM itself is cold);
# cold LABEL CMD...: the same after dropping the page cache (the stages read the payload from disk)
cold() { sync; echo 3 > /proc/sys/vm/drop_caches; timed "$@"; }
timed() {
  label=$1; shift
  t0=$(ms); out=$("$@" 2>&1); rc=$?; t1=$(ms)
  echo "BENCH-T $label $((t1 - t0)) rc=$rc :: $(printf '%s' "$out" | tail -n 1 | cut -c1-160)"
  if [ $rc -ge 128 ] || printf '%s' "$out" | grep -q 'A fatal error has been detected'; then
    echo "BENCH-CRASH $label rc=$rc"; printf '%s\n' "$out" | head -n 40 | sed 's/^/BENCH-CRASHOUT /'
  fi
}
# the agent's one-shot CLI with the given JVM flags, run as kubeos-health.service runs it (from the
# runtime's directory, the jar named relative to it: the CDS archive kubeos.jsa is made that way)
agent() { flags=$1; shift; (cd $RT && bin/java $flags -XX:ErrorFile=/persist/hs_err_%p.log -jar kubeos.jar agent "$@"); }
stage() { agent "$1" stage --url "file://$2" --sha256 "$3" --version "$4" --format raw; }
# the shell baseline: read the payload once, hash and write it (tee), then the same as two passes
shellstage() { dd if=$P bs=1M status=none | tee >(sha256sum > /run/shell.sum) | dd of=$ROOTB bs=1M iflag=fullblock oflag=direct status=none && cat /run/shell.sum; }
shellseq() { sha256sum $P && dd if=$P of=$ROOTB bs=1M oflag=direct status=none; }
# ... and read back what was written, uncached, against the payload (the agent verifies too)
shellseqverify() { shellseq && dd if=$ROOTB bs=4M iflag=direct count=$(( $(stat -c %s $P) / 4194304 )) status=none | cmp - $P && echo "read back: same"; }
hs_errs() {
  for f in /persist/hs_err_*.log; do
    [ -f "$f" ] || continue
    echo "BENCH-HSERR $f"
    grep -E -A2 '^# (SIGSEGV|SIGBUS|SIGILL|Problematic frame|J |C |V )|^# +[A-Z]' "$f" | head -n 30 | sed 's/^/BENCH-HSERR /'
    grep -E '^(Current thread|Stack:|siginfo|CPU:|Host:|Register to memory|RIP=|Instructions:)' -A3 "$f" | head -n 40 | sed 's/^/BENCH-HSERR /'
    mv "$f" "$f.seen"
  done
}

if [ -f /persist/bench-boot1-done ]; then
  echo "BENCH-BOOT 2 (trial)"
  systemctl show kubeos-health.service -p ExecMainStartTimestampMonotonic -p ExecMainExitTimestampMonotonic -p ExecMainStatus -p ExecStart --no-pager | tr '\n' ' ' | sed 's/^/BENCH-HEALTHUNIT /'; echo
  s=$(systemctl show kubeos-health.service -p ExecMainStartTimestampMonotonic --value)
  e=$(systemctl show kubeos-health.service -p ExecMainExitTimestampMonotonic --value)
  echo "BENCH-T health-gate-unit $(( (e - s) / 1000 )) rc=0 :: kubeos-health.service start to exit (systemd)"
  journalctl -b -u kubeos-health.service --no-pager -o short-monotonic | tail -n 8 | sed 's/^/BENCH-HEALTHLOG /'
  # what shared the emulated CPUs with the gate: every unit that was activating while it ran (its
  # start → active window overlapping the gate's), in one systemctl call: one call per unit cost
  # the probe about 45 s of emulated CPU (its cgroup: 65–71 s, against 20–25 s with one call)
  # ('*': every unit loaded; list-units' first column can be a "●" mark instead of a name, and one
  # argument that is not a unit fails the whole call)
  systemctl show -p Id -p InactiveExitTimestampMonotonic -p ActiveEnterTimestampMonotonic '*' |
    awk -v s="$s" -v e="$e" -F= '
      function out() { if (x > 0 && x < e && (a == 0 || a > s)) printf "BENCH-OVERLAP %s activating %.1f-%.1f s\n", u, x / 1e6, a / 1e6; u = x = a = "" }
      $1 == "Id" { u = $2; n++ } $1 == "InactiveExitTimestampMonotonic" { x = $2 } $1 == "ActiveEnterTimestampMonotonic" { a = $2 }
      /^$/ { out() } END { out(); printf "BENCH-OVERLAP-CHECKED %d units\n", n }'
  echo "BENCH-GATEWINDOW $(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.1f-%.1f s", s/1e6, e/1e6 }')"
  # the CPU each service's cgroup has used this boot (cgroup v2 keeps cpu.stat without accounting),
  # the most first, and the whole system's (kernel threads included)
  for c in /sys/fs/cgroup/system.slice/*/cpu.stat; do
    echo "$(awk '$1 == "usage_usec" {print $2}' "$c") $(basename "$(dirname "$c")")"
  done | sort -rn | head -n 8 | awk '{printf "BENCH-CGROUPCPU %s %.1f s\n", $2, $1/1e6}'
  awk '/^cpu /{printf "BENCH-SYSCPU user %.1f s, system %.1f s, idle %.1f s since boot (all vCPUs)\n", $2/100, $4/100, $5/100}' /proc/stat
  rm -f /persist/bench-boot1-done
  hs_errs
  echo "BENCH-END"
  exit 0
fi

echo "BENCH-BOOT 1 cpu=$BENCH_CPU jit=$BENCH_JIT"
echo "BENCH-CPUINFO $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2) | $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2)"
echo "BENCH-JVMCPU $($RT/bin/java -Xlog:os+cpu=info -version 2>&1 | grep -m1 'CPU: total' | sed 's/.*CPU: //')"
echo "BENCH-JVMFLAGS $($RT/bin/java -XX:+PrintFlagsFinal -version 2>/dev/null | grep -E ' (UseAVX|UseSSE|UseSHA|UseSHA256Intrinsics|UseAES|UseCRC32Intrinsics|UseFMA|UseBMI1Instructions|UseBMI2Instructions|UseCountLeadingZerosInstruction|UsePopCountInstruction|UseSerialGC|UseG1GC|MaxHeapSize|CICompilerCount) ' | awk '{print $2"="$4}' | tr '\n' ' ')"
echo "BENCH-LOAD $(cat /proc/loadavg)"

# --gate-only: straight to the stage + activate that arm the trial (boot 2 measures the gate)
if [ "${GATE_ONLY:-0}" = 1 ]; then SIDE_BY_SIDE=0; else
# 1. cold JVM starts, page cache warm (#1 of each warms it): java -version and agent status
timed "java-version#1" $RT/bin/java -version
timed "status-health-flags#1" agent "$HEALTH_FLAGS" status --json
timed "status-appcds-dump#1" agent "$HEALTH_FLAGS -XX:+AutoCreateSharedArchive -XX:SharedArchiveFile=/persist/bench-app.jsa" status --json
timed "java-version#2" $RT/bin/java -version
timed "java-version-xshareoff#2" $RT/bin/java -Xshare:off -version
timed "java-version-noreloc#2" $RT/bin/java $NORELOC -version
timed "status-health-flags#2" agent "$HEALTH_FLAGS" status --json
timed "status-c1-probe#2" agent "-XX:TieredStopAtLevel=1" status --json
timed "status-tiered#2" agent "" status --json
timed "status-xshareoff#2" agent "-XX:TieredStopAtLevel=1 -Xshare:off" status --json
timed "status-xint#2" agent "-Xint" status --json
timed "status-appcds#2" agent "$HEALTH_FLAGS -XX:+AutoCreateSharedArchive -XX:SharedArchiveFile=/persist/bench-app.jsa" status --json
timed "status-appcds-xint#2" agent "$HEALTH_FLAGS -Xint -XX:+AutoCreateSharedArchive -XX:SharedArchiveFile=/persist/bench-app.jsa" status --json
timed "status-human#2" agent "$HEALTH_FLAGS" status
timed "status-noreloc#2" agent "$HEALTH_FLAGS $NORELOC" status --json
timed "status-appcds-noreloc#2" agent "$HEALTH_FLAGS $NORELOC -XX:+AutoCreateSharedArchive -XX:SharedArchiveFile=/persist/bench-app.jsa" status --json
$RT/bin/java -XX:TieredStopAtLevel=1 -Xlog:class+load=info:file=/run/cl.txt -jar $JAR agent status --json >/dev/null 2>&1
echo "BENCH-CLASSES total=$(wc -l < /run/cl.txt) shared=$(grep -c 'shared objects file' /run/cl.txt) app=$(grep -c 'kubeos.jar' /run/cl.txt)"
timed "health-report-only" agent "$HEALTH_FLAGS" health
timed "health-report-only-appcds" agent "$HEALTH_FLAGS -XX:+AutoCreateSharedArchive -XX:SharedArchiveFile=/persist/bench-app.jsa" health
timed "health-report-only#2" agent "$HEALTH_FLAGS" health
timed "health-report-only-xint" agent "$HEALTH_FLAGS -Xint" health
timed "health-report-only-noreloc" agent "$HEALTH_FLAGS $NORELOC" health
# the same from a cold page cache, as on the trial boot (the first JVM of a new root), and what it
# read: the runtime's files in the page cache after it (fincore)
cold "java-version-cold" $RT/bin/java -version
cold "health-report-only-cold" agent "$HEALTH_FLAGS" health
fincore -b -n -o RES,FILE $RT/bin/java $RT/lib/server/libjvm.so $RT/lib/server/classes*.jsa $RT/lib/modules $RT/kubeos.jsa $JAR 2>/dev/null |
  awk '{printf "BENCH-CACHED %s %.1f MiB\n", $2, $1/1048576}'
ls -l $RT/lib/server/classes*.jsa $RT/lib/modules $RT/kubeos.jsa $JAR $RT/lib/server/libjvm.so | awk '{printf "BENCH-SIZE %s %.1f MiB\n", $NF, $5/1048576}'

# 2. JIT stress with tiered C2: hashing loops and repeated small stages
for i in $(seq 1 "$STRESS_ROUNDS"); do
  timed "hashloop-c2-2threads#$i" $RT/bin/java -XX:ErrorFile=/persist/hs_err_%p.log -cp /run/job HashLoop "$HASH_SECONDS" 2
  timed "stage-small-c2#$i" stage "" $SMALL "$SMALL_SHA" "9.$i"
done
timed "hashloop-c1-1thread" $RT/bin/java -XX:TieredStopAtLevel=1 -cp /run/job HashLoop "$HASH_SECONDS" 1
timed "hashloop-c2-1thread" $RT/bin/java -cp /run/job HashLoop "$HASH_SECONDS" 1
hs_errs

fi

# 3. the stage side by side (1 GiB raw payload from the job disk into ROOT-B;
#    the last one leaves ROOT-B staged for the trial)
if [ "$SIDE_BY_SIDE" = 1 ]; then
  cold "shell-tee-sha256sum-dd" shellstage
  cold "shell-sha256sum-then-dd" shellseq
  cold "shell-sha256sum-dd-readback" shellseqverify
  cold "agent-stage-c1" stage "-XX:TieredStopAtLevel=1" $P "$PAYLOAD_SHA" 2.0.0
fi
cold "agent-stage-c2" stage "$STAGE_FLAGS" $P "$PAYLOAD_SHA" 2.0.0
hs_errs

# 4. arm the trial of what the last stage wrote and reboot into it (boot 2 measures the gate)
if [ "$BENCH_TRIAL" = 1 ]; then
  timed "agent-activate" agent "$HEALTH_FLAGS" activate
  touch /persist/bench-boot1-done; sync
  echo "BENCH-LOAD $(cat /proc/loadavg)"
  echo "BENCH-REBOOT"
  touch /run/bench-reboot
  exit 0
fi
echo "BENCH-LOAD $(cat /proc/loadavg)"
echo "BENCH-END"
