package dev.kubeos.cli.cluster;

import dev.kubeos.testing.TestPki;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The node images of {@link ClusterE2E}: the builder's default {@code node} profile (containerd,
 * the agent unit, {@code /usr/bin/kubeos}) plus two e2e-only units, built and pushed by the real
 * {@code kubeos image build --push} (as a process):
 *
 * <ul>
 *   <li>{@code kubeos-e2e-proxy.service}: the node's proxy as the DaemonSet runs it, the
 *       operator/proxy image run by containerd ({@link #PROXY}, {@link ProxyContainer}), with the
 *       image, the translated pod settings and a kubeconfig for the API server at {@code
 *       10.0.2.100:6443} from the node's job disk (label KUBEOS-JOB);
 *   <li>{@code kubeos-e2e-kubelet.service}: the node line for {@link KubeletRole} (osImage and
 *       bootID) as soon as the system is up, as a kubelet reports at boot: ordered before the
 *       health gate ({@code kubeos-health.service}), so a trial boot is always reported while it is
 *       still uncommitted, the case a real kubelet makes possible and the proxy must not take for
 *       done;
 *   <li>{@code kubeos-e2e-report.service}: after the boot's health check, prints the health unit's
 *       state, then times a JVM start ({@code kubeos agent status --json}) and prints the agent's
 *       status;
 *   <li>{@code kubeos-e2e-faults.service}: scenario 5's fault in flight for this node, named by
 *       {@code FAULT} in the job disk's {@code node.env}: 10 s after the agent logged the start of
 *       a stage, {@code systemctl restart} of the agent ({@code agent}) or of the proxy ({@code
 *       proxy}), once per node (a marker on /persist);
 *   <li>{@code kubeos-e2e-sysctl.service}: prints the two sysctls of scenario 2 as the kernel has
 *       them ({@code /proc/sys/vm/swappiness}, set live by {@code kernel.sysctl}; {@code
 *       /proc/sys/vm/dirty_background_ratio}, persisted by {@code kernel.sysctl.persist} to {@link
 *       #SYSCTL_FILE}) and that file's line, once at boot and again whenever one changes.
 * </ul>
 *
 * The agent's runtime here is a jlink'd runtime with the modules of both the agent's runtime
 * (scripts/build-agent-runtime.sh) and the operator/proxy image base (scripts/build-image-base.sh),
 * and the whole {@code kubeos.jar}, where the node image proper carries the slim agent jar: it
 * dates from when the proxy ran from it, and every figure of the tier so far was measured on it. It
 * is made by the same script, so it also carries the health gate's CDS archive ({@code
 * kubeos.jsa}), which kubeos-health.service names.
 */
final class ClusterImages {
  static final String MODULES =
      "java.base,java.logging,java.management,java.naming,java.net.http,java.sql,jdk.crypto.ec,"
          + "jdk.httpserver,jdk.management,jdk.net,jdk.unsupported";

  /** What {@code kubeos image build --push} built and pushed for one version. */
  record Built(
      String version,
      Path disk,
      Path rootfsImage,
      String rootfsSha256,
      String artifact,
      String artifactDigestHex,
      String osImage,
      String osImageDigestHex,
      Path log) {}

  private ClusterImages() {}

  /**
   * The runtime in {@code dir}, made by {@code repo}'s scripts/build-agent-runtime.sh with {@link
   * #MODULES} and {@code kubeosJar} when missing, without the gate's archive, with another jar or
   * linked with other modules. Returns whether it was made.
   */
  static boolean runtime(Path repo, Path kubeosJar, Path dir)
      throws IOException, InterruptedException {
    Path jar = dir.resolve("kubeos.jar");
    Path modules = dir.resolve("kubeos-e2e-modules");
    if (Files.isExecutable(dir.resolve("bin/java"))
        && Files.isRegularFile(jar)
        && Files.isRegularFile(dir.resolve("kubeos.jsa"))
        && Files.mismatch(jar, kubeosJar) == -1
        && Files.isRegularFile(modules)
        && MODULES.equals(Files.readString(modules))) {
      return false;
    }
    ProcessBuilder build =
        new ProcessBuilder(
                repo.resolve("scripts/build-agent-runtime.sh").toString(), dir.toString())
            .redirectErrorStream(true);
    build.environment().put("AGENT_JAR", kubeosJar.toAbsolutePath().toString());
    build.environment().put("AGENT_MODULES", MODULES);
    Process p = build.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IOException("scripts/build-agent-runtime.sh failed:\n" + out);
    }
    Files.writeString(modules, MODULES);
    return true;
  }

  /** The agent's certificate directory (agent serve's default {@code --cert-dir}). */
  static final String CERT_DIR = "/etc/KubeOS/certs";

  /** The file names in {@link #CERT_DIR}, as the OS resource's cacert, clientcert, clientkey. */
  static final String CA = "ca.pem";

  static final String CLIENT_CERT = "client.pem";
  static final String CLIENT_KEY = "client-key.pem";

  /**
   * The root slots' size: the node rootfs (~0.9 GiB with the e2e runtime) with room to spare, not
   * the node profile's default 2 GiB. A delta stage reads the booted slot, checks the target in
   * place and reads the written slot back, each in full, so under TCG its time follows the slot's
   * size: this saves about a third of every stage in the tier.
   */
  static final int ROOT_MIB = 1280;

  /** A required unit that fails on purpose: the broken release's health check requires it. */
  static final String FAIL_UNIT = "kubeos-e2e-fail.service";

  /**
   * Writes {@code dir/kubeos.toml} for {@code version} with the e2e units next to it; {@code
   * unhealthy}: a broken release, with {@link #FAIL_UNIT} ({@code ExecStart=/bin/false}) enabled
   * and a {@code [health]} check that requires it, so its trial boot fails its health check. {@code
   * pki}'s CA and client certificate and key go into the agent's certificate directory ({@link
   * #CERT_DIR}), as an administrator provisions a node for {@code imagetype disk} over mTLS.
   */
  static Path config(Path dir, String version, Path runtime, boolean unhealthy, TestPki pki)
      throws IOException {
    Files.createDirectories(dir);
    Files.copy(pki.caCertPem(), dir.resolve(CA), StandardCopyOption.REPLACE_EXISTING);
    Files.copy(pki.clientCertPem(), dir.resolve(CLIENT_CERT), StandardCopyOption.REPLACE_EXISTING);
    Files.copy(pki.clientKeyPem(), dir.resolve(CLIENT_KEY), StandardCopyOption.REPLACE_EXISTING);
    String certs =
        file(CA, CERT_DIR + "/" + CA, "0644")
            + file(CLIENT_CERT, CERT_DIR + "/" + CLIENT_CERT, "0644")
            + file(CLIENT_KEY, CERT_DIR + "/" + CLIENT_KEY, "0600");
    String broken = "";
    String enableBroken = "";
    if (unhealthy) {
      Files.writeString(
          dir.resolve(FAIL_UNIT),
          "[Unit]\nDescription=KubeOS e2e: a required unit that fails on purpose\n"
              + "[Service]\nType=oneshot\nExecStart=/bin/false\nRemainAfterExit=yes\n"
              + "[Install]\nWantedBy=multi-user.target\n");
      broken =
          file(FAIL_UNIT, "/etc/systemd/system/" + FAIL_UNIT, "0644")
              + "[health]\n[[health.checks]]\ntype = \"systemd-unit\"\nunit = \""
              + FAIL_UNIT
              + "\"\ndeadline_seconds = 30\n";
      enableBroken = ", \"" + FAIL_UNIT + "\"";
    }
    Files.writeString(dir.resolve("kubeos-e2e-kubelet"), KUBELET);
    Files.writeString(dir.resolve("kubeos-e2e-kubelet.service"), KUBELET_UNIT);
    Files.writeString(dir.resolve("kubeos-e2e-report"), REPORT);
    Files.writeString(dir.resolve("kubeos-e2e-report.service"), REPORT_UNIT);
    Files.writeString(dir.resolve("kubeos-e2e-proxy"), PROXY);
    Files.writeString(dir.resolve("kubeos-e2e-proxy.service"), PROXY_UNIT);
    Files.writeString(dir.resolve("agent-console.conf"), AGENT_CONSOLE);
    Files.writeString(dir.resolve("kubeos-e2e-sysctl"), SYSCTL);
    Files.writeString(dir.resolve("kubeos-e2e-sysctl.service"), SYSCTL_UNIT);
    Files.writeString(dir.resolve("kubeos-e2e-faults"), FAULTS);
    Files.writeString(dir.resolve("kubeos-e2e-faults.service"), FAULTS_UNIT);
    Path config = dir.resolve("kubeos.toml");
    Files.writeString(
        config,
        "# KubeOS "
            + version
            + " for ClusterE2E: the node profile + the e2e proxy and reporter units"
            + (unhealthy ? " (broken on purpose: its health check fails)" : "")
            + "\n"
            + "version = \""
            + version
            + "\"\n"
            + file("kubeos-e2e-kubelet", "/usr/local/sbin/kubeos-e2e-kubelet", "0755")
            + file(
                "kubeos-e2e-kubelet.service",
                "/etc/systemd/system/kubeos-e2e-kubelet.service",
                "0644")
            + file("kubeos-e2e-report", "/usr/local/sbin/kubeos-e2e-report", "0755")
            + file(
                "kubeos-e2e-report.service",
                "/etc/systemd/system/kubeos-e2e-report.service",
                "0644")
            + file("kubeos-e2e-proxy", "/usr/local/sbin/kubeos-e2e-proxy", "0755")
            + file(
                "kubeos-e2e-proxy.service", "/etc/systemd/system/kubeos-e2e-proxy.service", "0644")
            + file("kubeos-e2e-sysctl", "/usr/local/sbin/kubeos-e2e-sysctl", "0755")
            + file(
                "kubeos-e2e-sysctl.service",
                "/etc/systemd/system/kubeos-e2e-sysctl.service",
                "0644")
            + file("kubeos-e2e-faults", "/usr/local/sbin/kubeos-e2e-faults", "0755")
            + file(
                "kubeos-e2e-faults.service",
                "/etc/systemd/system/kubeos-e2e-faults.service",
                "0644")
            + file(
                "agent-console.conf",
                "/etc/systemd/system/kubeos-agent.service.d/e2e-console.conf",
                "0644")
            + certs
            + broken
            + "[systemd]\nenable = [\"kubeos-e2e-kubelet.service\", \"kubeos-e2e-report.service\","
            + " \"kubeos-e2e-proxy.service\", \"kubeos-e2e-sysctl.service\", \"kubeos-e2e-faults.service\""
            + enableBroken
            + "]\n"
            + "[partitions]\nroot_mib = "
            + ROOT_MIB
            + "\n"
            + "[kernel]\ncmdline = \"console=ttyS0,115200\"\n"
            + "[agent]\nruntime = \""
            + runtime.toAbsolutePath()
            + "\"\n");
    return config;
  }

  private static String file(String source, String target, String mode) {
    return "[[files]]\nsource = \""
        + source
        + "\"\ntarget = \""
        + target
        + "\"\nmode = \""
        + mode
        + "\"\n";
  }

  /**
   * Runs {@code java -jar kubeosJar image build CONFIG -o OUT --push REPO --insecure-registry};
   * each output line goes to {@code progress} and the build log.
   */
  static Built buildAndPush(
      Path kubeosJar,
      Path config,
      Path out,
      Path cacheDir,
      String repo,
      String version,
      Consumer<String> progress)
      throws IOException, InterruptedException {
    Path log = out.resolveSibling("image-build-" + version + ".log");
    Files.createDirectories(out.getParent());
    List<String> argv =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar",
                kubeosJar.toString(),
                "image",
                "build",
                config.toString(),
                "-o",
                out.toString(),
                "--cache-dir",
                cacheDir.toString(),
                "--push",
                repo,
                "--insecure-registry"));
    Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
    StringBuilder all = new StringBuilder();
    try (var r = p.inputReader()) {
      String line;
      while ((line = r.readLine()) != null) {
        all.append(line).append('\n');
        progress.accept(line);
      }
    }
    int rc = p.waitFor();
    Files.writeString(log, all);
    if (rc != 0) {
      throw new IOException(
          "kubeos image build --push of " + version + " failed (" + rc + "): " + log);
    }
    String text = all.toString();
    Matcher os = find(text, "OS image \\(/os\\.tar\\)\\s+(\\S+)@sha256:([0-9a-f]{64})", log);
    Matcher raw = find(text, "OS artifact \\(raw\\)\\s+(\\S+)@sha256:([0-9a-f]{64})", log);
    Matcher disk = find(text, "built KubeOS \\S+ in [^\\n]*\\n\\s+(\\S+)", log);
    Matcher img = find(text, "\\n\\s+(\\S+/rootfs-[^\\s/]+\\.img)\\s+sha256 ([0-9a-f]{64})", log);
    return new Built(
        version,
        Path.of(disk.group(1)),
        Path.of(img.group(1)),
        img.group(2),
        raw.group(1),
        raw.group(2),
        os.group(1),
        os.group(2),
        log);
  }

  private static Matcher find(String text, String regex, Path log) throws IOException {
    Matcher m = Pattern.compile(regex).matcher(text);
    if (!m.find()) {
      throw new IOException("no '" + regex + "' in the output of kubeos image build: " + log);
    }
    return m;
  }

  // ---- the e2e units ----

  /**
   * A line on the serial console, which is opened for each line: the serial getty (console=ttyS0)
   * hangs the tty up when systemd starts it, and a descriptor opened before that writes nowhere
   * from then on; whether the getty starts before or after a unit is a race. A line written in the
   * instant of the hangup fails and is written once more.
   */
  static final String SAY =
      "say() { printf '%s\\n' \"$*\" 2>/dev/null > /dev/ttyS0 || printf '%s\\n' \"$*\" > /dev/ttyS0; }";

  static final String KUBELET =
      """
      #!/bin/sh
      # ClusterE2E only (test code, not the product): what a kubelet reports about this node, on the
      # serial console for the host's KubeletRole, as soon as the system is up: a kubelet starts at
      # boot and reports the new osImage and bootID while a trial boot is still uncommitted.
      @SAY@
      . /etc/os-release
      say "KUBEOS-E2E-NODE bootID=$(cat /proc/sys/kernel/random/boot_id) osImage=$PRETTY_NAME"
      """
          .replace("@SAY@", SAY);

  /**
   * The kubelet role's unit: early in the boot and before the health gate, so every trial boot is
   * reported while uncommitted (a real kubelet is not ordered against it at all; this is its worst
   * case, every time).
   */
  static final String KUBELET_UNIT =
      """
      [Unit]
      Description=KubeOS e2e kubelet role (ClusterE2E only: osImage and bootID on the console at boot)
      After=local-fs.target
      Before=kubeos-health.service

      [Service]
      Type=oneshot
      RemainAfterExit=yes
      ExecStart=/usr/local/sbin/kubeos-e2e-kubelet

      [Install]
      WantedBy=multi-user.target
      """;

  /** The report's first line: the health gate ended (commit or fallback) with this state. */
  static final String HEALTH_LINE = "KUBEOS-E2E-HEALTH ";

  static final String REPORT =
      """
      #!/bin/sh
      # ClusterE2E only (test code, not the product): after the boot's health check, its state, a
      # timed JVM start (the guest's speed) and the agent's status, on the serial console.
      @SAY@
      say "KUBEOS-E2E-HEALTH $(systemctl is-active kubeos-health.service) $(systemctl show -p Result --value kubeos-health.service)"
      # up to 3 tries: under multi-threaded TCG the JVM has crashed now and then (SIGSEGV in C1
      # code); a crashed try is no status and no measure of the guest's speed
      for try in 1 2 3; do
        t0=$(date +%s%N)
        s=$(/usr/bin/kubeos agent status --json)
        rc=$?
        t1=$(date +%s%N)
        s=$(printf '%s' "$s" | tr -d '\\n')
        [ "$rc" = 0 ] && break
        say "KUBEOS-E2E-RETRY kubeos agent status exited $rc (try $try)"
      done
      say "KUBEOS-E2E-JVM-MS $(( (t1 - t0) / 1000000 ))"
      say "KUBEOS-E2E-AGENT $s"
      """
          .replace("@SAY@", SAY);

  /** Where scenario 2 persists its sysctl (kernel.sysctl.persist's {@code configpath}). */
  static final String SYSCTL_FILE = "/etc/sysctl.d/90-kubeos-e2e.conf";

  /**
   * The sysctl line: {@code KUBEOS-E2E-SYSCTL swappiness=N dirty_background_ratio=N persisted=L}.
   */
  static final Pattern SYSCTL_LINE =
      Pattern.compile(
          "KUBEOS-E2E-SYSCTL swappiness=(\\d+) dirty_background_ratio=(\\d+) persisted=(.*)$");

  static final String SYSCTL =
      """
      #!/bin/sh
      # ClusterE2E only (test code, not the product): the sysctls scenario 2 sets, read from
      # /proc/sys, and the persisted file's line, on the serial console at boot and on each change
      # (a poll every 3 s: /proc/sys cannot be watched). cat, not the shell's read: dash reads a
      # byte at a time and the kernel answers a read past offset 0 of an integer sysctl with EOF.
      # The console is opened for each line: the serial getty's vhangup leaves a descriptor opened
      # before it writing nowhere.
      last=
      while :; do
        s=$(cat /proc/sys/vm/swappiness)
        d=$(cat /proc/sys/vm/dirty_background_ratio)
        p=
        if [ -f %s ]; then
          while IFS= read -r l; do
            case "$l" in vm.dirty_background_ratio*) p=$l ;; esac
          done < %s
        fi
        now="swappiness=$s dirty_background_ratio=$d persisted=$p"
        if [ "$now" != "$last" ]; then
          echo "KUBEOS-E2E-SYSCTL $now" > /dev/ttyS0
          last=$now
        fi
        sleep 3
      done
      """
          .formatted(SYSCTL_FILE, SYSCTL_FILE);

  static final String SYSCTL_UNIT =
      """
      [Unit]
      Description=KubeOS e2e sysctl watcher (ClusterE2E only: scenario 2's sysctls on the console)
      After=systemd-sysctl.service local-fs.target

      [Service]
      ExecStart=/usr/local/sbin/kubeos-e2e-sysctl
      Restart=always
      RestartSec=5s

      [Install]
      WantedBy=multi-user.target
      """;

  /** The fault unit's console line: {@code KUBEOS-E2E-FAULT restarting|restarted UNIT ...}. */
  static final String FAULT_LINE = "KUBEOS-E2E-FAULT ";

  static final String FAULTS =
      """
      #!/bin/sh
      # ClusterE2E only (test code, not the product): scenario 5's fault in flight. The job disk's
      # node.env names this node's fault: FAULT=agent restarts the agent unit, FAULT=proxy the
      # proxy unit, 10 s after the agent logged the start of a stage (a delta stage takes minutes
      # here, so the restart comes in its middle). Once per node: the marker on /persist keeps it
      # to the first stage the node makes; later boots and stages run undisturbed.
      d=/run/kubeos-e2e-faults
      mkdir -p $d
      mountpoint -q $d || mount -o ro LABEL=KUBEOS-JOB $d || exit 0
      . $d/node.env
      [ -n "${FAULT:-}" ] || exit 0
      marker=/persist/kubeos-e2e-fault-$FAULT
      [ -e "$marker" ] && exit 0
      case "$FAULT" in
        agent) unit=kubeos-agent.service ;;
        proxy) unit=kubeos-e2e-proxy.service ;;
        *) echo "KUBEOS-E2E-FAULT unknown fault '$FAULT'" > /dev/ttyS0; exit 1 ;;
      esac
      journalctl -f -n 0 -o cat -u kubeos-agent.service | while IFS= read -r line; do
        case "$line" in
          *"stage "*" -> slot "*)
            sleep 10
            touch "$marker"
            sync
            old=$(systemctl show -p MainPID --value "$unit")
            echo "KUBEOS-E2E-FAULT restarting $unit (pid $old) while the agent stages" > /dev/ttyS0
            systemctl restart "$unit"
            new=$(systemctl show -p MainPID --value "$unit")
            echo "KUBEOS-E2E-FAULT restarted $unit: pid $old -> $new, $(systemctl is-active "$unit")" > /dev/ttyS0
            exit 0
            ;;
        esac
      done
      """;

  static final String FAULTS_UNIT =
      """
      [Unit]
      Description=KubeOS e2e faults (ClusterE2E only: scenario 5, a restart in flight)
      After=kubeos-agent.socket local-fs.target

      [Service]
      ExecStart=/usr/local/sbin/kubeos-e2e-faults

      [Install]
      WantedBy=multi-user.target
      """;

  static final String REPORT_UNIT =
      """
      [Unit]
      Description=KubeOS e2e reporter (ClusterE2E only: health, JVM speed and agent status lines)
      After=kubeos-health.service kubeos-agent.socket local-fs.target

      [Service]
      Type=oneshot
      RemainAfterExit=yes
      ExecStart=/usr/local/sbin/kubeos-e2e-report

      [Install]
      WantedBy=multi-user.target
      """;

  /**
   * The proxy unit's script: the operator/proxy image imported into containerd (namespace {@code
   * k8s.io}) from the job disk when containerd lacks that digest (once per node: containerd's store
   * is on PERSIST, it survives the A/B switch), then run by containerd with the DaemonSet's
   * settings ({@link ProxyContainer}: the job disk's {@code proxy.args}). {@code cleanup}: what a
   * stop leaves (a task ctr could not end, the rootfs mount), also run before each start.
   */
  static final String PROXY =
      """
      #!/bin/sh
      # ClusterE2E only (test code, not the product): the node's proxy as the DaemonSet runs it, the
      # operator/proxy image run by containerd (see ProxyContainer for what stands in for the pod).
      j=/run/kubeos-e2e
      r=%s
      name=%s
      c="ctr -n k8s.io"
      cleanup() {
        $c task kill -s KILL $name >/dev/null 2>&1 || true
        $c task rm -f $name >/dev/null 2>&1 || true
        $c container rm $name >/dev/null 2>&1 || true
        $c images unmount --rm $r >/dev/null 2>&1 || true
      }
      if [ "${1:-}" = cleanup ]; then cleanup; exit 0; fi
      set -e
      mkdir -p $j
      mountpoint -q $j || mount -o ro LABEL=KUBEOS-JOB $j
      . $j/proxy.env
      have=$($c images ls | awk -v i="$IMAGE" '$1 == i { print $3 }')
      if [ "$have" != "$DIGEST" ]; then
        s=$(date +%%s)
        $c images import --base-name "${IMAGE%%:*}" $j/kubeos-image.tar >/dev/null
        have=$($c images ls | awk -v i="$IMAGE" '$1 == i { print $3 }')
        echo "KUBEOS-E2E-PROXY-IMPORT $IMAGE $have in $(( $(date +%%s) - s )) s" > /dev/ttyS0
        [ "$have" = "$DIGEST" ] || { echo "KUBEOS-E2E-PROXY-IMPORT wanted $DIGEST" > /dev/ttyS0; exit 1; }
      fi
      cleanup
      mkdir -p $r
      $c images mount --rw "$IMAGE" $r >/dev/null
      # once the task runs: who it runs as, as the kernel has it
      (
        for i in $(seq 1 600); do
          pid=$($c task ls 2>/dev/null | awk -v n=$name '$1 == n && $3 == "RUNNING" { print $2 }')
          if [ -n "$pid" ] && [ -r /proc/$pid/status ]; then
            st=$(awk '/^(Uid|CapEff|NoNewPrivs|Seccomp):/ { printf "%%s%%s ", $1, $2 }' /proc/$pid/status)
            echo "%s$name image=$IMAGE@$have pid=$pid $st" > /dev/ttyS0
            exit 0
          fi
          sleep 1
        done
      ) &
      set --
      while IFS= read -r a; do set -- "$@" "$a"; done < $j/proxy.args
      exec $c run --rm "$@"
      """
          .formatted(ProxyContainer.ROOTFS, ProxyContainer.NAME, ProxyContainer.LINE);

  static final String PROXY_UNIT =
      """
      [Unit]
      Description=KubeOS proxy (ClusterE2E: the operator/proxy image run by containerd, as the DaemonSet runs it)
      After=kubeos-agent.socket network.target containerd.service
      Requires=containerd.service

      [Service]
      ExecStart=/usr/local/sbin/kubeos-e2e-proxy
      ExecStopPost=/usr/local/sbin/kubeos-e2e-proxy cleanup
      Restart=always
      RestartSec=5s
      StandardOutput=journal+console
      StandardError=journal+console

      [Install]
      WantedBy=multi-user.target
      """;

  static final String AGENT_CONSOLE =
      """
      # ClusterE2E only: the agent's log on the serial console too, for the test's log
      [Service]
      StandardOutput=journal+console
      StandardError=journal+console
      """;
}
