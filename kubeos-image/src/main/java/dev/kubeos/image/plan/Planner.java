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
  public static final List<String> DEFAULT_PACKAGES =
      List.of("linux-image-amd64", "systemd-sysv", "udev", "initramfs-tools", "e2fsprogs");

  /** The agent's own units, always installed (from deploy/systemd). */
  public static final List<String> AGENT_UNITS =
      List.of("kubeos-agent.socket", "kubeos-agent.service", "kubeos-health.service");

  /**
   * Of {@link #AGENT_UNITS}, the ones enabled: the agent's socket (which starts the agent on
   * demand; the service itself is not started at boot) and the boot-time health check.
   */
  public static final List<String> AGENT_ENABLED =
      List.of("kubeos-agent.socket", "kubeos-health.service");

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
    SourceSpec source = source(c.distribution(), configDir);
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
    if (c.systemd() != null) {
      for (String u : orEmpty(c.systemd().enable())) {
        check(UNIT.matcher(u).matches(), "systemd unit name '" + u + "' is not a unit file name");
        units.add(u);
      }
    }
    ImageConfig.Partitions p =
        c.partitions() == null ? new ImageConfig.Partitions(null, null, null) : c.partitions();
    int esp = size(p.espMib(), 64, 8, "esp_mib");
    int root = size(p.rootMib(), 1024, 8, "root_mib");
    int persist = size(p.persistMib(), 512, 4, "persist_mib");
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
        steps);
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

  private static SourceSpec source(ImageConfig.Distribution d, Path configDir) {
    ImageConfig.Distribution dist =
        d == null ? new ImageConfig.Distribution(null, null, null, null, null, null) : d;
    String kind = Objects.requireNonNullElse(dist.source(), SourceSpec.DEBOOTSTRAP);
    if (kind.equals(SourceSpec.DIRECTORY)) {
      String path = require(dist.path(), "distribution.path (rootfs directory or tarball)");
      return new SourceSpec(kind, null, null, null, List.of(), abs(configDir, path));
    }
    check(
        kind.equals(SourceSpec.DEBOOTSTRAP),
        "distribution.source '" + kind + "' is not supported; use debootstrap or directory");
    List<String> packages = dist.packages() == null ? DEFAULT_PACKAGES : dist.packages();
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
        packages,
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
