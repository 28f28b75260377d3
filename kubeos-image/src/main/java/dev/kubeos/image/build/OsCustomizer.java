package dev.kubeos.image.build;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.settings.DefaultSettingsPolicy;
import dev.kubeos.formats.signing.Keys;
import dev.kubeos.formats.trust.TrustPolicy;
import dev.kubeos.image.plan.BuildPlan;
import dev.kubeos.image.plan.Planner;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Turns a distribution tree into a KubeOS root file system: os-release, read-only fstab, the
 * PERSIST mount points and initramfs hook, machine-id for a read-only root, users, files, the agent
 * runtime and enabled units. Works on a staging directory only (no chroot), so it needs no root.
 */
public final class OsCustomizer {
  static final String HOOK = "etc/initramfs-tools/scripts/init-bottom/kubeos-overlay";
  static final String MODULES = "etc/initramfs-tools/modules";
  static final String RUNTIME = "usr/lib/kubeos/runtime";
  static final String UNIT_DIR = "usr/lib/systemd/system";

  /** The node's own {@code kubeos} command: the runtime with the agent's JVM flags. */
  public static final String NODE_COMMAND = "usr/bin/kubeos";

  /**
   * The flag that quick node commands add: C1 only starts a short command sooner (no C2 compiler
   * threads on the node's cores; 1.1-2x in the QEMU guest, docs/benchmarks.md) but has no SHA-256
   * intrinsic, so {@code stage} and {@code serve} never get it.
   */
  public static final String QUICK_JIT = "-XX:TieredStopAtLevel=1";

  /** JVM flags of the agent daemon that belong to the daemon only (its own CDS archive). */
  private static final List<String> DAEMON_ONLY =
      List.of(
          "-XX:SharedArchiveFile=", "-XX:+AutoCreateSharedArchive", "-XX:ArchiveClassesAtExit=");

  /** The node profile's files (relative path in the rootfs to resource name under node/). */
  static final Map<String, String> NODE_FILES = nodeFiles();

  private static Map<String, String> nodeFiles() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("etc/containerd/config.toml", "containerd-config.toml");
    m.put("usr/lib/modules-load.d/kubeos-node.conf", "modules-load.conf");
    m.put("usr/lib/sysctl.d/90-kubeos-node.conf", "sysctl.conf");
    m.put("usr/lib/systemd/network/90-kubeos-dhcp.network", "dhcp.network");
    m.put(UNIT_DIR + "/kubeos-grow-persist.service", "kubeos-grow-persist.service");
    m.put("usr/lib/kubeos/grow-persist", "grow-persist");
    m.put(UNIT_DIR + "/kubeos-opt-cni.service", "kubeos-opt-cni.service");
    m.put("usr/lib/kubeos/opt-cni", "opt-cni");
    m.put(UNIT_DIR + "/kubeos-hostname.service", "kubeos-hostname.service");
    m.put("usr/lib/kubeos/set-hostname", "set-hostname");
    return java.util.Collections.unmodifiableMap(m);
  }

  private final BuildPlan plan;
  private final Path root;

  public OsCustomizer(BuildPlan plan, Path root) {
    this.plan = plan;
    this.root = root;
  }

  /** The initramfs hook's files: relative path in the rootfs to content. */
  public static Map<String, String> overlayHookFiles() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put(HOOK, resource("initramfs/kubeos-overlay"));
    m.put(MODULES, resource("initramfs/modules"));
    return m;
  }

  /** Installs the hook (script 0755; module names appended to the modules list once). */
  public static void installOverlayHook(Path root) throws IOException {
    Map<String, String> files = overlayHookFiles();
    Path hook = root.resolve(HOOK);
    Files.createDirectories(hook.getParent());
    Files.writeString(hook, files.get(HOOK));
    Trees.chmod(hook, 0755);
    Path modules = root.resolve(MODULES);
    String old = Files.exists(modules) ? Files.readString(modules) : "";
    if (!old.contains("# KubeOS:")) {
      Files.writeString(
          modules, old + (old.isEmpty() || old.endsWith("\n") ? "" : "\n") + files.get(MODULES));
    }
  }

  /** Applies the plan to the tree. Returns notes for the progress output (e.g. "no kernel"). */
  public List<String> apply() throws IOException {
    List<String> notes = new ArrayList<>();
    for (String dir :
        List.of("persist", "boot/efi", "etc/KubeOS", "var", "tmp", "proc", "sys", "dev", "run")) {
      Files.createDirectories(root.resolve(dir));
    }
    osRelease();
    fstab();
    machineId();
    installOverlayHook(root);
    new Accounts(root).apply(plan.rootPasswordHash(), plan.accounts());
    settingsPolicy();
    if (plan.node()) {
      node();
    }
    if (plan.kubernetes() != null) {
      kubernetes(plan.kubernetes());
    }
    health();
    for (BuildPlan.FileCopy f : plan.files()) {
      Path target = root.resolve(f.target().substring(1));
      Files.createDirectories(target.getParent());
      Files.copy(f.source(), target, StandardCopyOption.REPLACE_EXISTING);
      Trees.chmod(target, f.mode());
    }
    agent();
    nodeCommand();
    trust();
    new UnitEnabler(root).enable(plan.units());
    if (!Files.exists(root.resolve(BuildPlan.KERNEL.substring(1)))
        || !Files.exists(root.resolve(BuildPlan.INITRD.substring(1)))) {
      notes.add(
          "no kernel at "
              + BuildPlan.KERNEL
              + " / "
              + BuildPlan.INITRD
              + " in the root file system: the disk will not boot (fine for a test tree)");
    }
    return notes;
  }

  private void osRelease() throws IOException {
    String v = plan.version();
    String text =
        "PRETTY_NAME=\"KubeOS "
            + v
            + "\"\nNAME=\"KubeOS\"\nID=kubeos\nID_LIKE=debian\nVERSION=\""
            + v
            + "\"\nVERSION_ID=\""
            + v
            + "\"\nHOME_URL=\"https://github.com/openeuler-mirror/KubeOS\"\n";
    for (String p : List.of("etc/os-release", "usr/lib/os-release")) {
      Path f = root.resolve(p);
      Files.createDirectories(f.getParent());
      Files.deleteIfExists(f); // Debian ships /etc/os-release as a symlink
      Files.writeString(f, text);
      Trees.chmod(f, 0644);
    }
    Files.writeString(root.resolve("etc/issue"), "KubeOS " + v + " \\n \\l\n\n");
    Files.writeString(root.resolve("etc/issue.net"), "KubeOS " + v + "\n");
    Files.writeString(root.resolve("etc/hostname"), "kubeos\n");
  }

  private void fstab() throws IOException {
    Files.writeString(
        root.resolve("etc/fstab"),
        "# KubeOS: the root file system is read-only; the slot is chosen by GRUB (root=PARTUUID=).\n"
            + "# PERSIST at /persist, the /etc overlay (upper: /persist/etc/upper) and /var (bind of\n"
            + "# /persist/var) are mounted by the initramfs (init-bottom/kubeos-overlay) before\n"
            + "# systemd starts; the PERSIST line below lets systemd know the mount.\n"
            + "/dev/root          /          ext4   ro,noatime                0 0\n"
            + "PARTLABEL=PERSIST  /persist   ext4   rw,noatime                0 0\n"
            + "PARTLABEL=ESP      /boot/efi  vfat   umask=0077,noatime        0 0\n"
            + "tmpfs              /tmp       tmpfs  mode=1777,nosuid,nodev    0 0\n");
  }

  private void machineId() throws IOException {
    // Empty: systemd treats the boot as a first boot and writes a new id into /etc, which is the
    // overlay on PERSIST, so the id is generated once per node and survives upgrades.
    Files.writeString(root.resolve("etc/machine-id"), "");
    Trees.chmod(root.resolve("etc/machine-id"), 0444);
    Path dbus = root.resolve("var/lib/dbus/machine-id");
    if (Files.exists(dbus.getParent())) {
      Files.deleteIfExists(dbus);
      Files.createSymbolicLink(dbus, Path.of("/etc/machine-id"));
    }
  }

  private void agent() throws IOException {
    Path src = plan.agentRuntime();
    if (!Files.isRegularFile(src.resolve("bin/java"))
        || !Files.isRegularFile(src.resolve("kubeos.jar"))) {
      throw new AgentException(
          ErrorCode.PRECONDITION_FAILED,
          "agent.runtime "
              + src
              + " does not hold bin/java and kubeos.jar; build it with"
              + " ./mvnw -q -DskipTests install && scripts/build-agent-runtime.sh");
    }
    Path dest = root.resolve(RUNTIME);
    Trees.delete(dest);
    try (Stream<Path> walk = Files.walk(src)) {
      for (Path p : walk.toList()) {
        Path t = dest.resolve(src.relativize(p).toString());
        if (Files.isSymbolicLink(p)) {
          Files.createSymbolicLink(t, Files.readSymbolicLink(p));
        } else if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else {
          Files.copy(p, t, StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
        }
      }
    }
    Path units = root.resolve(UNIT_DIR);
    Files.createDirectories(units);
    int java = javaFeature(src);
    for (String unit : Planner.AGENT_UNITS) {
      Files.writeString(units.resolve(unit), unitFor(unit, resource("systemd/" + unit), java));
      Trees.chmod(units.resolve(unit), 0644);
    }
  }

  private static final Pattern JAVA_VERSION = Pattern.compile("^JAVA_VERSION=\"(\\d+)");

  /** The first Java feature release that knows {@code -XX:+AutoCreateSharedArchive}. */
  public static final int AUTO_ARCHIVE_SINCE = 19;

  /**
   * A shipped agent unit as a runtime of Java {@code javaFeature} can run it. A JVM older than 19
   * (a runtime linked from Debian 12's only JDK, OpenJDK 17) refuses to start with the daemon's
   * {@code -XX:+AutoCreateSharedArchive}: there the daemon's ExecStart goes without its own archive
   * and runs on the JDK's. {@code javaFeature} 0 (unknown: the runtime has no {@code release} file,
   * which jlink always writes) keeps the unit as shipped.
   */
  public static String unitFor(String name, String text, int javaFeature) {
    if (!name.equals("kubeos-agent.service")
        || javaFeature == 0
        || javaFeature >= AUTO_ARCHIVE_SINCE) {
      return text;
    }
    StringBuilder out = new StringBuilder();
    for (String line : text.split("\n", -1)) {
      if (line.startsWith("ExecStart=")) {
        out.append("# Java ")
            .append(javaFeature)
            .append(" runtime: no -XX:+AutoCreateSharedArchive (Java ")
            .append(AUTO_ARCHIVE_SINCE)
            .append("+); the daemon runs on the JDK's CDS archive only\n");
        line =
            Arrays.stream(line.split(" "))
                .filter(t -> DAEMON_ONLY.stream().noneMatch(t::startsWith))
                .collect(Collectors.joining(" "));
      }
      out.append(line).append('\n');
    }
    return out.substring(0, out.length() - 1);
  }

  /**
   * The Java feature release of a jlink'd runtime, from its {@code release} file ({@code
   * JAVA_VERSION="17.0.15"}); 0 when it has none.
   */
  public static int javaFeature(Path runtime) throws IOException {
    Path release = runtime.resolve("release");
    if (!Files.isRegularFile(release)) {
      return 0;
    }
    for (String l : Files.readAllLines(release)) {
      Matcher m = JAVA_VERSION.matcher(l);
      if (m.find()) {
        return Integer.parseInt(m.group(1));
      }
    }
    return 0;
  }

  /**
   * The node profile: containerd's config, modules, sysctls, DHCP, PERSIST growth, /opt/cni from
   * PERSIST, a per-node hostname and the directories the kubelet needs on a read-only root.
   */
  private void node() throws IOException {
    for (Map.Entry<String, String> e : NODE_FILES.entrySet()) {
      Path f = root.resolve(e.getKey());
      Files.createDirectories(f.getParent());
      Files.deleteIfExists(f);
      Files.writeString(f, resource("node/" + e.getValue()));
      Trees.chmod(f, e.getKey().startsWith("usr/lib/kubeos/") ? 0755 : 0644);
    }
    // empty: kubeos-hostname.service names the node from its machine id on the first boot
    Files.writeString(root.resolve("etc/hostname"), "");
    // mount point of the PERSIST bind, and the kubelet's flexvolume dir (it only creates it when
    // missing, which a read-only /usr refuses)
    for (String d :
        List.of("opt/cni", "etc/cni/net.d", "usr/libexec/kubernetes/kubelet-plugins/volume/exec")) {
      Files.createDirectories(root.resolve(d));
    }
  }

  /** The user's kubelet (and tools) into /usr/bin, the kubelet unit and kubeadm's drop-in. */
  private void kubernetes(BuildPlan.KubernetesSpec k) throws IOException {
    for (Map.Entry<String, Path> e : k.binaries().entrySet()) {
      if (!Files.isRegularFile(e.getValue())) {
        throw new AgentException(
            ErrorCode.INVALID_REQUEST,
            "kubernetes." + e.getKey() + " " + e.getValue() + " is not a file");
      }
      Path t = root.resolve("usr/bin").resolve(e.getKey());
      Files.createDirectories(t.getParent());
      Files.copy(e.getValue(), t, StandardCopyOption.REPLACE_EXISTING);
      Trees.chmod(t, 0755);
    }
    Path unit = root.resolve(UNIT_DIR).resolve(Planner.KUBELET_UNIT);
    Files.createDirectories(unit.getParent());
    Files.writeString(unit, resource("node/kubelet.service"));
    Trees.chmod(unit, 0644);
    Path dropIn = root.resolve(UNIT_DIR).resolve("kubelet.service.d/10-kubeadm.conf");
    Files.createDirectories(dropIn.getParent());
    Files.writeString(dropIn, resource("node/10-kubeadm.conf"));
    Trees.chmod(dropIn, 0644);
    Path version = root.resolve("usr/lib/kubeos/kubernetes-version");
    Files.createDirectories(version.getParent());
    Files.writeString(version, k.version() + "\n");
  }

  /** /etc/KubeOS/health.json in the agent's format, when the plan has checks. */
  private void health() throws IOException {
    if (plan.health().checks().isEmpty()) {
      return;
    }
    Path f = root.resolve(BuildPlan.HEALTH_FILE.substring(1));
    Files.createDirectories(f.getParent());
    Files.writeString(f, healthJson(plan.health()));
    Trees.chmod(f, 0644);
  }

  /** The agent's health.json for {@code spec} (see docs/agent-api.md). */
  public static String healthJson(BuildPlan.HealthSpec spec) {
    com.fasterxml.jackson.databind.node.ObjectNode o =
        com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
    o.put("deadlineSeconds", spec.deadlineSeconds());
    // a pending check is retried every second: a trial's commit waits at most that long after its
    // slowest check's condition holds (5 s, the agent's default, was up to 5 s beyond it), for a
    // systemctl or a local HTTP request per second while the node comes up
    o.put("intervalSeconds", 1);
    com.fasterxml.jackson.databind.node.ArrayNode checks = o.putArray("checks");
    for (BuildPlan.HealthCheckSpec c : spec.checks()) {
      com.fasterxml.jackson.databind.node.ObjectNode n = checks.addObject();
      n.put("type", c.type());
      switch (c.type()) {
        case "http" -> n.put("url", c.url());
        case "command" -> c.argv().forEach(n.putArray("argv")::add);
        default -> n.put("unit", c.unit());
      }
      n.put("deadlineSeconds", c.deadlineSeconds());
      if (c.onlyIfExists() != null) {
        n.put("onlyIfExists", c.onlyIfExists());
      }
    }
    try {
      return dev.kubeos.api.Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(o)
          + "\n";
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * {@code /usr/bin/kubeos}: the jlink'd runtime with the agent daemon's JVM flags (read from its
   * unit's ExecStart) minus the daemon-only ones, so an administrator's {@code kubeos agent
   * status|stage|rollback|configure|health} runs as the daemon does. Commands that hash ({@code
   * stage}, {@code serve}) keep the tiered JIT; the rest start on C1 only ({@link #QUICK_JIT}).
   */
  private void nodeCommand() throws IOException {
    Path f = root.resolve(NODE_COMMAND);
    Files.createDirectories(f.getParent());
    Files.deleteIfExists(f);
    Files.writeString(f, nodeCommandScript(resource("systemd/kubeos-agent.service")));
    Trees.chmod(f, 0755);
  }

  /** The wrapper script for the agent unit's text. */
  public static String nodeCommandScript(String agentUnit) {
    return "#!/bin/sh\n"
        + "# KubeOS: the node's kubeos command (e.g. kubeos agent status), on the agent's runtime\n"
        + "# with the agent daemon's JVM flags (kubeos-agent.service) minus its CDS archive.\n"
        + "# stage and serve hash: the tiered JIT (C2's SHA-256 intrinsics); the rest, and any\n"
        + "# --help, start sooner on C1 only.\n"
        + "jit="
        + QUICK_JIT
        + "\n"
        + "for a in \"$@\"; do case \"$a\" in stage|serve) jit= ;; esac; done\n"
        + "for a in \"$@\"; do case \"$a\" in -h|--help) jit="
        + QUICK_JIT
        + " ;; esac; done\n"
        + "exec /"
        + RUNTIME
        + "/bin/java "
        + String.join(" ", nodeCommandFlags(agentUnit))
        + " $jit -jar /"
        + RUNTIME
        + "/kubeos.jar \"$@\"\n";
  }

  /** The JVM flags of the unit's ExecStart, without the daemon-only ones. */
  public static List<String> nodeCommandFlags(String agentUnit) {
    String exec =
        agentUnit
            .lines()
            .map(String::strip)
            .filter(l -> l.startsWith("ExecStart="))
            .findFirst()
            .orElseThrow(() -> new IllegalStateException("kubeos-agent.service has no ExecStart"));
    List<String> argv = List.of(exec.substring("ExecStart=".length()).strip().split("\\s+"));
    int java = argv.indexOf("/" + RUNTIME + "/bin/java");
    int jar = argv.indexOf("-jar");
    if (java < 0 || jar < java) {
      throw new IllegalStateException("kubeos-agent.service's ExecStart is not java ... -jar");
    }
    List<String> flags = new ArrayList<>();
    for (String a : argv.subList(java + 1, jar)) {
      if (DAEMON_ONLY.stream().noneMatch(a::startsWith) && !a.startsWith("-XX:TieredStopAtLevel")) {
        flags.add(a);
      }
    }
    return flags;
  }

  /**
   * The agent's default settings policy; a {@code [[files]]} entry for the same path replaces it.
   */
  private void settingsPolicy() throws IOException {
    Path file = root.resolve(DefaultSettingsPolicy.FILE.toString().substring(1));
    Files.writeString(file, DefaultSettingsPolicy.text());
    Trees.chmod(file, 0644);
  }

  /**
   * The trust policy: each key checked to be a P-256 public key, copied to /etc/KubeOS/trust, and
   * policy.json naming them. Without keys nothing is written (the agent then checks nothing).
   */
  private void trust() throws IOException {
    BuildPlan.TrustSpec trust = plan.trust();
    if (trust.keys().isEmpty()) {
      return;
    }
    Path dir = root.resolve(BuildPlan.TRUST_DIR.substring(1));
    Files.createDirectories(dir);
    for (Path key : trust.keys()) {
      Keys.readPublic(key); // refuses private keys, other curves, junk
      Path target = dir.resolve(key.getFileName().toString());
      Files.copy(key, target, StandardCopyOption.REPLACE_EXISTING);
      Trees.chmod(target, 0644);
    }
    Path policy = dir.resolve(TrustPolicy.FILE);
    Files.writeString(policy, trust.policy().toJson());
    Trees.chmod(policy, 0644);
  }

  static String resource(String name) {
    String path = "/dev/kubeos/image/" + name;
    try (InputStream in = OsCustomizer.class.getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException("resource " + path + " missing from the image builder jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
