package dev.kubeos.image.plan;

import dev.kubeos.formats.trust.TrustPolicy;
import java.nio.file.Path;
import java.util.List;

/**
 * Everything a build does, decided before anything runs. Immutable; {@link #describe()} is what
 * {@code kubeos image build --dry-run} prints.
 *
 * @param version OS version V
 * @param profile {@code node} or {@code minimal}
 * @param source base root file system
 * @param cacheKey hex SHA-256 of the source's inputs: the rootfs step's tarball is cached under it
 * @param rootPasswordHash crypt(3) hash for root, or null to keep the distribution's
 * @param accounts extra accounts
 * @param files files copied into the image
 * @param units units enabled in the image (the agent's first)
 * @param disk the GPT layout
 * @param extraCmdline image-wide kernel command line after the contract's part
 * @param agentRuntime the jlink'd agent runtime directory (bin/java, kubeos.jar)
 * @param outputDir where disk.img and the payloads go
 * @param cacheDir where rootfs tarballs are cached
 * @param qcow2 also write disk.qcow2
 * @param trust the trust policy baked into /etc/KubeOS/trust
 * @param kubernetes the user-supplied kubelet and tools, or null (a container host)
 * @param health the checks of /etc/KubeOS/health.json (none: no file is written)
 * @param steps the step names, in order
 */
public record BuildPlan(
    String version,
    String profile,
    SourceSpec source,
    String cacheKey,
    String rootPasswordHash,
    List<AccountSpec> accounts,
    List<FileCopy> files,
    List<String> units,
    DiskGeometry disk,
    String extraCmdline,
    Path agentRuntime,
    Path outputDir,
    Path cacheDir,
    boolean qcow2,
    TrustSpec trust,
    KubernetesSpec kubernetes,
    HealthSpec health,
    List<String> steps) {

  /** Kernel and initrd inside each root file system (Debian's symlinks). */
  public static final String KERNEL = "/vmlinuz";

  public static final String INITRD = "/initrd.img";

  /** An extra account; its group has the same id and name. */
  public record AccountSpec(
      String name, int uid, String passwordHash, String shell, List<String> groups) {
    public AccountSpec {
      groups = List.copyOf(groups);
    }
  }

  /** A host file copied to {@code target} in the image with {@code mode} (octal). */
  public record FileCopy(Path source, String target, int mode) {}

  /** Where the agent reads the trust policy in the image. */
  public static final String TRUST_DIR = "/etc/KubeOS/trust";

  /**
   * The node's trust policy: the public keys copied into {@link #TRUST_DIR} and whether signatures
   * are required.
   */
  public record TrustSpec(List<Path> keys, boolean requireSignatures) {
    public static final TrustSpec NONE = new TrustSpec(List.of(), false);

    public TrustSpec {
      keys = List.copyOf(keys);
    }

    /** The policy.json the image gets (key names are the files' names). */
    public TrustPolicy policy() {
      return new TrustPolicy(
          requireSignatures, keys.stream().map(k -> k.getFileName().toString()).toList());
    }
  }

  /**
   * The kubelet and its tools, installed into /usr/bin with the kubelet unit and kubeadm's drop-in.
   *
   * @param version Kubernetes version (v-prefixed)
   * @param kubelet the kubelet binary on the build host
   * @param kubeadm kubeadm, or null
   * @param kubectl kubectl, or null
   * @param crictl crictl, or null
   */
  public record KubernetesSpec(
      String version, Path kubelet, Path kubeadm, Path kubectl, Path crictl) {
    /** Binary name in /usr/bin to the host file, the kubelet first; absent ones left out. */
    public java.util.Map<String, Path> binaries() {
      java.util.Map<String, Path> m = new java.util.LinkedHashMap<>();
      m.put("kubelet", kubelet);
      if (kubeadm != null) {
        m.put("kubeadm", kubeadm);
      }
      if (kubectl != null) {
        m.put("kubectl", kubectl);
      }
      if (crictl != null) {
        m.put("crictl", crictl);
      }
      return m;
    }
  }

  /**
   * One check of /etc/KubeOS/health.json (the agent's format, {@code dev.kubeos.agent.health}).
   *
   * @param type http, command or systemd-unit
   * @param url http: the URL
   * @param argv command: the command
   * @param unit systemd-unit: the unit
   * @param deadlineSeconds the check's own deadline
   * @param onlyIfExists the check is no gate while this path is absent, or null
   */
  public record HealthCheckSpec(
      String type,
      String url,
      List<String> argv,
      String unit,
      int deadlineSeconds,
      String onlyIfExists) {
    public HealthCheckSpec {
      argv = argv == null ? null : List.copyOf(argv);
    }

    static HealthCheckSpec unit(String unit, int deadlineSeconds) {
      return new HealthCheckSpec("systemd-unit", null, null, unit, deadlineSeconds, null);
    }

    /** One line for the plan. */
    public String describe() {
      String what =
          switch (type) {
            case "http" -> "GET " + url;
            case "command" -> String.join(" ", argv);
            default -> "unit " + unit;
          };
      return what
          + " within "
          + deadlineSeconds
          + " s"
          + (onlyIfExists == null ? "" : " (only once " + onlyIfExists + " exists)");
    }
  }

  /**
   * @param deadlineSeconds overall deadline
   * @param checks the checks, in order
   */
  public record HealthSpec(int deadlineSeconds, List<HealthCheckSpec> checks) {
    public HealthSpec {
      checks = List.copyOf(checks);
    }
  }

  /** Where the agent reads its post-boot checks. */
  public static final String HEALTH_FILE = "/etc/KubeOS/health.json";

  public boolean node() {
    return "node".equals(profile);
  }

  public BuildPlan {
    accounts = List.copyOf(accounts);
    files = List.copyOf(files);
    units = List.copyOf(units);
    steps = List.copyOf(steps);
  }

  public Path diskImage() {
    return outputDir.resolve("disk.img");
  }

  public Path qcow2Image() {
    return outputDir.resolve("disk.qcow2");
  }

  public Path rootfsImage() {
    return outputDir.resolve("rootfs-" + version + ".img");
  }

  public Path rootfsTar() {
    return outputDir.resolve("rootfs-" + version + ".tar");
  }

  public Path cachedRootfs() {
    return cacheDir.resolve("rootfs-" + cacheKey + ".tar");
  }

  /** Human-readable plan, one fact per line, deterministic. */
  public String describe() {
    StringBuilder b = new StringBuilder();
    b.append("KubeOS image plan for version ").append(version).append('\n');
    b.append("  source:     ").append(source.describe()).append('\n');
    b.append("  cache key:  ").append(cacheKey).append(" (").append(cachedRootfs()).append(")\n");
    b.append("  root:       ")
        .append(rootPasswordHash == null ? "password unchanged" : "password hash set")
        .append('\n');
    for (AccountSpec a : accounts) {
      b.append("  account:    ").append(a.name()).append(" uid ").append(a.uid());
      b.append(" shell ").append(a.shell()).append(" groups ").append(a.groups()).append('\n');
    }
    for (FileCopy f : files) {
      b.append("  file:       ").append(f.source()).append(" -> ").append(f.target());
      b.append(String.format(" (%04o)%n", f.mode()));
    }
    b.append("  profile:    ").append(profile);
    if (!node()) {
      b.append(" (kernel, systemd and the agent; no container runtime)\n");
    } else if (kubernetes == null) {
      b.append(" -> a container host (containerd, runc, CNI plugins, AppArmor, networkd);")
          .append(" no kubelet: add a [kubernetes] section to make it a Kubernetes node\n");
    } else {
      b.append(" -> a Kubernetes node: kubelet ").append(kubernetes.version());
      b.append(" (").append(String.join(", ", kubernetes.binaries().keySet()));
      b.append(" -> /usr/bin), containerd, runc, CNI plugins, AppArmor, networkd\n");
      for (java.util.Map.Entry<String, Path> e : kubernetes.binaries().entrySet()) {
        b.append("    ").append(String.format("%-9s ", e.getKey() + ":")).append(e.getValue());
        b.append('\n');
      }
    }
    b.append("  units:      ").append(String.join(" ", units)).append('\n');
    if (!health.checks().isEmpty()) {
      b.append("  health:     ").append(HEALTH_FILE).append(", deadline ");
      b.append(health.deadlineSeconds()).append(" s\n");
      for (HealthCheckSpec c : health.checks()) {
        b.append("    check:    ").append(c.describe()).append('\n');
      }
    }
    if (!trust.keys().isEmpty()) {
      b.append("  trust:      ")
          .append(
              trust.requireSignatures()
                  ? "signatures required"
                  : "signatures checked, not required")
          .append(", keys -> ")
          .append(TRUST_DIR)
          .append('\n');
      for (Path k : trust.keys()) {
        b.append("    key:      ").append(k).append('\n');
      }
    }
    b.append("  agent:      ").append(agentRuntime).append(" -> /usr/lib/kubeos/runtime\n");
    b.append("  cmdline:    root=PARTUUID=<slot> ro panic=10 kubeos.slot=<A|B> ");
    b.append(extraCmdline).append('\n');
    b.append(String.format("  disk:       %s (%d MiB)%n", diskImage(), disk.sizeBytes() >> 20));
    for (DiskGeometry.Partition p : disk.partitions()) {
      b.append(
          String.format(
              "    %d %-8s %s sectors %d..%d (%d MiB) partuuid %s%n",
              p.number(),
              p.name(),
              p.typeCode(),
              p.firstSector(),
              p.lastSector(),
              p.sizeBytes() >> 20,
              p.partUuid()));
    }
    b.append("  ids:        disk ").append(disk.diskGuid()).append(", ESP fs ");
    b.append(disk.espFsUuid()).append(", root fs ").append(disk.rootFsUuid());
    b.append(", PERSIST fs ").append(disk.persistFsUuid()).append('\n');
    b.append("  payloads:   ").append(rootfsImage()).append(", ").append(rootfsTar());
    b.append(" (+ .sha256)\n");
    if (qcow2) {
      b.append("  qcow2:      ").append(qcow2Image()).append('\n');
    }
    b.append("  steps:      ").append(String.join(" -> ", steps)).append('\n');
    return b.toString();
  }
}
