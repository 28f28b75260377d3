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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
    for (BuildPlan.FileCopy f : plan.files()) {
      Path target = root.resolve(f.target().substring(1));
      Files.createDirectories(target.getParent());
      Files.copy(f.source(), target, StandardCopyOption.REPLACE_EXISTING);
      Trees.chmod(target, f.mode());
    }
    agent();
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
    for (String unit : Planner.AGENT_UNITS) {
      Files.writeString(units.resolve(unit), resource("systemd/" + unit));
      Trees.chmod(units.resolve(unit), 0644);
    }
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
