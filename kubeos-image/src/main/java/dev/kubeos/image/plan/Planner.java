package dev.kubeos.image.plan;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.image.config.ImageConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Turns an {@link ImageConfig} into a {@link BuildPlan}: applies defaults, checks every value and
 * fixes the cache key. Touches no file; the source's content key is computed by the caller.
 */
public final class Planner {
  public static final String DEFAULT_SUITE = "bookworm";
  public static final String DEFAULT_MIRROR = "http://deb.debian.org/debian";
  public static final String DEFAULT_VARIANT = "minbase";

  /** Profile {@code node} (the default): a Kubernetes node, or a container host without kubelet. */
  public static final String NODE = "node";

  /** Profile {@code minimal}: kernel, systemd and the agent, nothing else. */
  public static final String MINIMAL = "minimal";

  /** The minimal profile's packages: what boots and runs the agent. */
  public static final List<String> MINIMAL_PACKAGES =
      List.of("linux-image-amd64", "systemd-sysv", "udev", "initramfs-tools", "e2fsprogs");

  /**
   * The node profile's packages (Debian bookworm): the minimal set, then dbus (systemd's cgroup
   * driver talks to systemd over it), fdisk and kmod (PERSIST growth, modules), CA certificates,
   * the container runtime with the CNI plugins, the tools the kubelet and kube-proxy run, AppArmor,
   * time sync and name resolution.
   */
  public static final List<String> NODE_PACKAGES =
      List.of(
          "linux-image-amd64",
          "systemd-sysv",
          "udev",
          "initramfs-tools",
          "e2fsprogs",
          "dbus",
          "fdisk",
          "kmod",
          "ca-certificates",
          "containerd",
          "runc",
          "containernetworking-plugins",
          "iproute2",
          "iptables",
          "conntrack",
          "ethtool",
          "socat",
          "apparmor",
          "systemd-timesyncd",
          "systemd-resolved");

  /** The default profile's packages. */
  public static final List<String> DEFAULT_PACKAGES = NODE_PACKAGES;

  /** The agent's own units, always installed (from deploy/systemd). */
  public static final List<String> AGENT_UNITS =
      List.of("kubeos-agent.socket", "kubeos-agent.service", "kubeos-health.service");

  /**
   * Of {@link #AGENT_UNITS}, the ones enabled: the agent's socket (which starts the agent on
   * demand; the service itself is not started at boot) and the boot-time health check.
   */
  public static final List<String> AGENT_ENABLED =
      List.of("kubeos-agent.socket", "kubeos-health.service");

  /**
   * Units the node profile enables: the runtime, network, name resolution, time, AppArmor's
   * profiles, and the builder's own: PERSIST growth, the node's hostname, /opt/cni from PERSIST.
   */
  public static final List<String> NODE_UNITS =
      List.of(
          "containerd.service",
          "systemd-networkd.service",
          "systemd-networkd.socket",
          "systemd-resolved.service",
          "systemd-timesyncd.service",
          "apparmor.service",
          "kubeos-grow-persist.service",
          "kubeos-hostname.service",
          "kubeos-opt-cni.service");

  /** The kubelet's unit, enabled when a {@code [kubernetes]} section supplies the kubelet. */
  public static final String KUBELET_UNIT = "kubelet.service";

  /** The kubelet's kubeconfig after the join: the kubelet is a health gate once it exists. */
  public static final String KUBELET_KUBECONFIG = "/etc/kubernetes/kubelet.conf";

  /** Default deadline of the post-boot checks, seconds. */
  public static final int HEALTH_DEADLINE = 300;

  public static final List<String> STEPS =
      List.of(
          "check-host", "rootfs", "customize", "payloads", "partition", "slot-a", "esp", "persist");

  private static final Pattern VERSION = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+-]{0,63}");
  private static final Pattern UNIT =
      Pattern.compile("[A-Za-z0-9@._\\\\-]+\\.(service|socket|timer|path|target|mount)");
  private static final Pattern NAME = Pattern.compile("[a-z_][a-z0-9_-]{0,31}");
  private static final Pattern PACKAGE = Pattern.compile("[a-z0-9][a-z0-9+.:=~-]*");
  private static final Pattern CMDLINE = Pattern.compile("[\\x20-\\x26\\x28-\\x7e]*");
  private static final Pattern TARGET = Pattern.compile("(/[A-Za-z0-9._+@-]+)+");

  private Planner() {}

  /**
   * @param configDir relative paths of the config resolve here
   * @param sourceContentKey what the source's content hashes to (see {@code
   *     RootfsSource.contentKey}); part of the cache key
   */
  public static BuildPlan plan(
      ImageConfig c, Path configDir, Path outputDir, Path cacheDir, String sourceContentKey) {
    String version = require(c.version(), "version");
    check(VERSION.matcher(version).matches(), "version '" + version + "' must match " + VERSION);
    String profile = Objects.requireNonNullElse(c.profile(), NODE);
    check(
        profile.equals(NODE) || profile.equals(MINIMAL),
        "profile '" + profile + "' is not known; use " + NODE + " or " + MINIMAL);
    boolean node = profile.equals(NODE);
    SourceSpec source = source(c.distribution(), configDir, node);
    String key = sha256("kubeos-rootfs/1\n" + source.describe() + "\n" + sourceContentKey);

    ImageConfig.Users users = c.users() == null ? new ImageConfig.Users(null, null) : c.users();
    List<BuildPlan.AccountSpec> accounts = new ArrayList<>();
    for (ImageConfig.Account a : orEmpty(users.accounts())) {
      String name = require(a.name(), "users.accounts.name");
      check(NAME.matcher(name).matches(), "account name '" + name + "' must match " + NAME);
      int uid = Objects.requireNonNullElse(a.uid(), 1000);
      check(uid >= 1000 && uid < 60000, "uid of " + name + " must be in 1000..59999");
      accounts.add(
          new BuildPlan.AccountSpec(
              name,
              uid,
              Objects.requireNonNullElse(a.passwordHash(), "!"),
              Objects.requireNonNullElse(a.shell(), "/bin/bash"),
              orEmpty(a.groups())));
    }
    List<BuildPlan.FileCopy> files = new ArrayList<>();
    for (ImageConfig.FileEntry f : orEmpty(c.files())) {
      String target = require(f.target(), "files.target");
      check(
          TARGET.matcher(target).matches() && !target.contains("/../") && !target.endsWith("/.."),
          "files.target '" + target + "' must be an absolute path without '..'");
      int mode = parseMode(f.mode() == null ? "0644" : f.mode(), target);
      files.add(
          new BuildPlan.FileCopy(
              abs(configDir, require(f.source(), "files.source")), target, mode));
    }
    Set<String> units = new LinkedHashSet<>(AGENT_ENABLED);
    BuildPlan.KubernetesSpec kubernetes = kubernetes(c.kubernetes(), configDir, node);
    if (node) {
      units.addAll(NODE_UNITS);
      if (kubernetes != null) {
        units.add(KUBELET_UNIT);
      }
    }
    if (c.systemd() != null) {
      for (String u : orEmpty(c.systemd().enable())) {
        check(UNIT.matcher(u).matches(), "systemd unit name '" + u + "' is not a unit file name");
        units.add(u);
      }
    }
    ImageConfig.Partitions p =
        c.partitions() == null ? new ImageConfig.Partitions(null, null, null) : c.partitions();
    int esp = size(p.espMib(), 64, 8, "esp_mib");
    int root = size(p.rootMib(), node ? 2048 : 1024, 8, "root_mib");
    int persist = size(p.persistMib(), node ? 1024 : 512, 4, "persist_mib");
    BuildPlan.HealthSpec health = health(c.health(), node);
    String cmdline = c.kernel() == null || c.kernel().cmdline() == null ? "" : c.kernel().cmdline();
    check(
        CMDLINE.matcher(cmdline).matches(),
        "kernel.cmdline must be printable ASCII without a single quote");
    check(
        !cmdline.matches("(^|.*\\s)(root|kubeos\\.slot|panic)=.*"),
        "kernel.cmdline must not set root=, kubeos.slot= or panic= (the boot contract sets them)");
    String runtime =
        require(
            c.agent() == null ? null : c.agent().runtime(),
            "agent.runtime (the directory scripts/build-agent-runtime.sh makes)");
    boolean qcow2 = c.output() != null && Boolean.TRUE.equals(c.output().qcow2());
    BuildPlan.TrustSpec trust = trust(c.trust(), configDir);
    List<String> steps = new ArrayList<>(STEPS);
    if (qcow2) {
      steps.add("qcow2");
    }
    return new BuildPlan(
        version,
        profile,
        source,
        key,
        users.rootPasswordHash(),
        accounts,
        files,
        List.copyOf(units),
        DiskGeometry.layout(version, esp, root, persist),
        cmdline,
        abs(configDir, runtime),
        outputDir.toAbsolutePath().normalize(),
        cacheDir.toAbsolutePath().normalize(),
        qcow2,
        trust,
        kubernetes,
        health,
        steps);
  }

  private static BuildPlan.KubernetesSpec kubernetes(
      ImageConfig.Kubernetes k, Path configDir, boolean node) {
    if (k == null) {
      return null;
    }
    check(node, "[kubernetes] needs the node profile (profile = \"" + NODE + "\")");
    String version = require(k.version(), "kubernetes.version");
    check(
        version.matches("v?[0-9]+\\.[0-9]+\\.[0-9]+([-+][A-Za-z0-9.+-]*)?"),
        "kubernetes.version '" + version + "' is not a Kubernetes version such as v1.30.4");
    return new BuildPlan.KubernetesSpec(
        version.startsWith("v") ? version : "v" + version,
        abs(configDir, require(k.kubelet(), "kubernetes.kubelet (the kubelet binary)")),
        k.kubeadm() == null ? null : abs(configDir, k.kubeadm()),
        k.kubectl() == null ? null : abs(configDir, k.kubectl()),
        k.crictl() == null ? null : abs(configDir, k.crictl()));
  }

  /**
   * The checks of /etc/KubeOS/health.json: the node profile's defaults (the agent, containerd, and
   * the kubelet once the node has joined), then the config's. The minimal profile has no defaults:
   * without checks no file is written, and a boot that reaches the agent counts as healthy.
   */
  private static BuildPlan.HealthSpec health(ImageConfig.Health h, boolean node) {
    int deadline = h == null || h.deadlineSeconds() == null ? HEALTH_DEADLINE : h.deadlineSeconds();
    check(deadline > 0 && deadline <= 3600, "health.deadline_seconds must be in 1..3600");
    List<BuildPlan.HealthCheckSpec> checks = new ArrayList<>();
    if (node) {
      // the agent is socket-activated (inactive when idle): its socket must listen; the agent code
      // itself runs in this very check (kubeos-health.service), so a broken agent fails it anyway
      checks.add(BuildPlan.HealthCheckSpec.unit("kubeos-agent.socket", Math.min(120, deadline)));
      checks.add(BuildPlan.HealthCheckSpec.unit("containerd.service", Math.min(180, deadline)));
      checks.add(
          new BuildPlan.HealthCheckSpec(
              "systemd-unit", null, null, KUBELET_UNIT, deadline, KUBELET_KUBECONFIG));
      checks.add(
          new BuildPlan.HealthCheckSpec(
              "http", "http://127.0.0.1:10248/healthz", null, null, deadline, KUBELET_KUBECONFIG));
    }
    for (ImageConfig.HealthCheck c :
        h == null ? List.<ImageConfig.HealthCheck>of() : orEmpty(h.checks())) {
      String type = require(c.type(), "health.checks.type");
      int own = c.deadlineSeconds() == null ? deadline : c.deadlineSeconds();
      check(
          own > 0 && own <= deadline,
          "health.checks.deadline_seconds must be in 1.." + deadline + " (the overall deadline)");
      String onlyIf = c.onlyIfExists();
      check(
          onlyIf == null || TARGET.matcher(onlyIf).matches(),
          "health.checks.only_if_exists '" + onlyIf + "' must be an absolute path");
      switch (type) {
        case "http" -> {
          String url = require(c.url(), "health.checks.url (type http)");
          check(url.matches("https?://\\S+"), "health check url '" + url + "' must be http(s)");
          check(c.argv() == null && c.unit() == null, "an http check takes url only");
          checks.add(new BuildPlan.HealthCheckSpec(type, url, null, null, own, onlyIf));
        }
        case "command" -> {
          List<String> argv = orEmpty(c.argv());
          check(
              !argv.isEmpty() && argv.get(0).startsWith("/"),
              "a command check's argv must start with an absolute path");
          check(c.url() == null && c.unit() == null, "a command check takes argv only");
          checks.add(new BuildPlan.HealthCheckSpec(type, null, argv, null, own, onlyIf));
        }
        case "systemd-unit" -> {
          String unit = require(c.unit(), "health.checks.unit (type systemd-unit)");
          check(UNIT.matcher(unit).matches(), "health check unit '" + unit + "' is not a unit");
          check(c.url() == null && c.argv() == null, "a systemd-unit check takes unit only");
          checks.add(new BuildPlan.HealthCheckSpec(type, null, null, unit, own, onlyIf));
        }
        default ->
            check(false, "health check type '" + type + "' is not http, command or systemd-unit");
      }
    }
    return new BuildPlan.HealthSpec(deadline, checks);
  }

  private static BuildPlan.TrustSpec trust(ImageConfig.Trust t, Path configDir) {
    if (t == null) {
      return BuildPlan.TrustSpec.NONE;
    }
    List<Path> keys = new ArrayList<>();
    for (String k : orEmpty(t.keys())) {
      keys.add(abs(configDir, require(k, "trust.keys")));
    }
    BuildPlan.TrustSpec spec =
        new BuildPlan.TrustSpec(keys, Boolean.TRUE.equals(t.requireSignatures()));
    try {
      spec.policy(); // names are NAME.pub, unique, and required signatures have a key
    } catch (IllegalArgumentException e) {
      throw new AgentException(ErrorCode.INVALID_REQUEST, "trust: " + e.getMessage());
    }
    return spec;
  }

  private static SourceSpec source(ImageConfig.Distribution d, Path configDir, boolean node) {
    ImageConfig.Distribution dist =
        d == null ? new ImageConfig.Distribution(null, null, null, null, null, null, null) : d;
    String kind = Objects.requireNonNullElse(dist.source(), SourceSpec.DEBOOTSTRAP);
    if (kind.equals(SourceSpec.DIRECTORY)) {
      String path = require(dist.path(), "distribution.path (rootfs directory or tarball)");
      return new SourceSpec(kind, null, null, null, List.of(), abs(configDir, path));
    }
    check(
        kind.equals(SourceSpec.DEBOOTSTRAP),
        "distribution.source '" + kind + "' is not supported; use debootstrap or directory");
    List<String> packages =
        new ArrayList<>(
            dist.packages() != null ? dist.packages() : node ? NODE_PACKAGES : MINIMAL_PACKAGES);
    for (String extra : orEmpty(dist.extraPackages())) {
      if (!packages.contains(extra)) {
        packages.add(extra);
      }
    }
    for (String pkg : packages) {
      check(PACKAGE.matcher(pkg).matches(), "package name '" + pkg + "' is not valid");
    }
    String mirror = Objects.requireNonNullElse(dist.mirror(), DEFAULT_MIRROR);
    check(mirror.matches("(https?|file)://\\S+"), "distribution.mirror must be an http(s) URL");
    return new SourceSpec(
        kind,
        Objects.requireNonNullElse(dist.suite(), DEFAULT_SUITE),
        mirror,
        Objects.requireNonNullElse(dist.variant(), DEFAULT_VARIANT),
        List.copyOf(packages),
        null);
  }

  private static int size(Integer value, int def, int min, String key) {
    int v = value == null ? def : value;
    check(v >= min && v <= 1 << 20, "partitions." + key + " must be at least " + min + " MiB");
    return v;
  }

  private static int parseMode(String mode, String target) {
    check(mode.matches("0?[0-7]{3,4}"), "mode '" + mode + "' of " + target + " is not octal");
    return Integer.parseInt(mode, 8);
  }

  private static Path abs(Path base, String path) {
    return base.resolve(path).toAbsolutePath().normalize();
  }

  private static <T> List<T> orEmpty(List<T> list) {
    return list == null ? List.of() : list;
  }

  private static String require(String value, String key) {
    check(value != null && !value.isBlank(), "image config: " + key + " is required");
    return value;
  }

  private static void check(boolean ok, String message) {
    if (!ok) {
      throw new AgentException(ErrorCode.INVALID_REQUEST, message);
    }
  }

  /** Hex SHA-256 of UTF-8 text. */
  public static String sha256(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
