package dev.kubeos.cli.cluster;

import dev.kubeos.cli.demo.Host;
import java.io.IOException;
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
 *   <li>{@code kubeos-e2e-proxy.service}: the node's {@code kubeos proxy} as a systemd unit (the
 *       issue allows it while the guest's containerd cannot run the proxy image yet), with the node
 *       name and a kubeconfig for the API server at {@code 10.0.2.100:6443} from the node's job
 *       disk (label KUBEOS-JOB);
 *   <li>{@code kubeos-e2e-report.service}: after the boot's health check, prints the node line for
 *       {@link KubeletRole}, then times a JVM start ({@code kubeos agent status --json}) and prints
 *       the agent's status.
 * </ul>
 *
 * The runtime is the agent's jlink'd runtime with the modules of both the agent's runtime
 * (scripts/build-agent-runtime.sh) and the operator/proxy image base (scripts/build-image-base.sh),
 * and the whole {@code kubeos.jar}: the node image proper carries the slim agent jar, which has no
 * Kubernetes client, so the proxy could not run from it.
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
   * The runtime in {@code dir} (made when missing, or its jar differs from {@code kubeosJar}, or it
   * was linked with other modules). Returns whether it was made.
   */
  static boolean runtime(Path kubeosJar, Path dir) throws IOException, InterruptedException {
    Path jar = dir.resolve("kubeos.jar");
    Path modules = dir.resolve("kubeos-e2e-modules");
    if (Files.isExecutable(dir.resolve("bin/java"))
        && Files.isRegularFile(jar)
        && Files.mismatch(jar, kubeosJar) == -1
        && Files.isRegularFile(modules)
        && MODULES.equals(Files.readString(modules))) {
      return false;
    }
    Path jdk = Path.of("/usr/lib/jvm/temurin-25-jdk-amd64");
    if (!Files.isExecutable(jdk.resolve("bin/jlink"))) {
      jdk = Path.of(System.getProperty("java.home"));
    }
    String major =
        Host.run(List.of(jdk.resolve("bin/jlink").toString(), "--version")).strip().split("\\.")[0];
    String compress = Integer.parseInt(major) >= 21 ? "zip-6" : "2";
    if (Files.exists(dir)) {
      dev.kubeos.image.build.Trees.delete(dir);
    }
    Files.createDirectories(dir.getParent());
    Host.run(
        List.of(
            jdk.resolve("bin/jlink").toString(),
            "--add-modules",
            MODULES,
            "--strip-debug",
            "--no-header-files",
            "--no-man-pages",
            "--compress=" + compress,
            "--generate-cds-archive",
            "--output",
            dir.toString()));
    Files.copy(kubeosJar, jar, StandardCopyOption.REPLACE_EXISTING);
    Files.writeString(modules, MODULES);
    return true;
  }

  /** Writes {@code dir/kubeos.toml} for {@code version} with the e2e units next to it. */
  static Path config(Path dir, String version, Path runtime) throws IOException {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("kubeos-e2e-report"), REPORT);
    Files.writeString(dir.resolve("kubeos-e2e-report.service"), REPORT_UNIT);
    Files.writeString(dir.resolve("kubeos-e2e-proxy.service"), PROXY_UNIT);
    Files.writeString(dir.resolve("agent-console.conf"), AGENT_CONSOLE);
    Path config = dir.resolve("kubeos.toml");
    Files.writeString(
        config,
        "# KubeOS "
            + version
            + " for ClusterE2E: the node profile + the e2e proxy and reporter units\n"
            + "version = \""
            + version
            + "\"\n"
            + file("kubeos-e2e-report", "/usr/local/sbin/kubeos-e2e-report", "0755")
            + file(
                "kubeos-e2e-report.service",
                "/etc/systemd/system/kubeos-e2e-report.service",
                "0644")
            + file(
                "kubeos-e2e-proxy.service", "/etc/systemd/system/kubeos-e2e-proxy.service", "0644")
            + file(
                "agent-console.conf",
                "/etc/systemd/system/kubeos-agent.service.d/e2e-console.conf",
                "0644")
            + "[systemd]\nenable = [\"kubeos-e2e-report.service\", \"kubeos-e2e-proxy.service\"]\n"
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

  static final String REPORT =
      """
      #!/bin/sh
      # ClusterE2E only (test code, not the product): what a kubelet would report about this node,
      # on the serial console for the host's KubeletRole; then a timed JVM start (the guest's speed)
      # and the agent's status after the boot's health check.
      exec > /dev/ttyS0 2>&1
      . /etc/os-release
      echo "KUBEOS-E2E-NODE bootID=$(cat /proc/sys/kernel/random/boot_id) osImage=$PRETTY_NAME"
      t0=$(date +%s%N)
      s=$(/usr/bin/kubeos agent status --json | tr -d '\\n')
      t1=$(date +%s%N)
      echo "KUBEOS-E2E-JVM-MS $(( (t1 - t0) / 1000000 ))"
      echo "KUBEOS-E2E-AGENT $s"
      echo "KUBEOS-E2E-HEALTH $(systemctl is-active kubeos-health.service) $(systemctl show -p Result --value kubeos-health.service)"
      """;

  static final String REPORT_UNIT =
      """
      [Unit]
      Description=KubeOS e2e reporter (ClusterE2E only: node status lines on the console)
      After=kubeos-health.service kubeos-agent.socket local-fs.target

      [Service]
      Type=oneshot
      RemainAfterExit=yes
      ExecStart=/usr/local/sbin/kubeos-e2e-report

      [Install]
      WantedBy=multi-user.target
      """;

  static final String PROXY_UNIT =
      """
      [Unit]
      Description=KubeOS proxy (ClusterE2E: the node's kubeos proxy as a unit, config on the job disk)
      After=kubeos-agent.socket network.target

      [Service]
      ExecStart=/bin/sh -c 'mkdir -p /run/kubeos-e2e; mountpoint -q /run/kubeos-e2e || mount -o ro LABEL=KUBEOS-JOB /run/kubeos-e2e; . /run/kubeos-e2e/node.env; exec /usr/lib/kubeos/runtime/bin/java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx192m -jar /usr/lib/kubeos/runtime/kubeos.jar proxy --node "$$NODE_NAME"'
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
