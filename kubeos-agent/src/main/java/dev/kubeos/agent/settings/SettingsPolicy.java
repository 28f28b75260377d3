package dev.kubeos.agent.settings;

import dev.kubeos.agent.settings.PolicyRules.CmdlineRule;
import dev.kubeos.agent.settings.PolicyRules.KeyRule;
import dev.kubeos.agent.settings.PolicyRules.PathRule;
import dev.kubeos.agent.settings.PolicyRules.SysctlRule;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.settings.DefaultSettingsPolicy;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The node's own limits on settings, enforced whatever the cluster asks (docs/settings.md,
 * "Settings policy"): allowed and denied sysctl keys (also for {@code sysctl.*} kernel parameters),
 * kernel command-line parameters, the files each model may write, and denied kubelet and containerd
 * keys. Deny rules win over allow rules. A refusal is {@link ErrorCode#POLICY_DENIED} naming the
 * rule and the policy's source.
 *
 * <p>The node's file is {@link #FILE} (JSON or YAML); without it the compiled-in defaults apply
 * (kubeos-formats' {@link DefaultSettingsPolicy}, the same text the image builder installs there);
 * a file that cannot be used refuses every configure (fail closed). The format is read by {@link
 * SettingsPolicyFile}.
 */
public final class SettingsPolicy {
  /** Where the node's policy lives. */
  public static final Path FILE = DefaultSettingsPolicy.FILE;

  static final String DEFAULTS_SOURCE = "compiled-in defaults";
  private static final String DEFAULTS_TEXT = DefaultSettingsPolicy.text();
  private static final SettingsPolicy DEFAULTS =
      SettingsPolicyFile.parse(DEFAULTS_TEXT, DEFAULTS_SOURCE);

  private final String source;
  private final String broken;
  private final AllowDeny<SysctlRule> sysctl;
  private final AllowDeny<CmdlineRule> cmdline;
  private final Map<String, List<String>> paths;
  private final Map<String, List<KeyRule>> keyDeny;

  SettingsPolicy(
      String source,
      String broken,
      List<SysctlRule> sysctlAllow,
      List<SysctlRule> sysctlDeny,
      List<CmdlineRule> cmdlineAllow,
      List<CmdlineRule> cmdlineDeny,
      Map<String, List<String>> paths,
      Map<String, List<KeyRule>> keyDeny) {
    this.source = source;
    this.broken = broken;
    this.sysctl = new AllowDeny<>("sysctl", sysctlAllow, sysctlDeny);
    this.cmdline = new AllowDeny<>("cmdline", cmdlineAllow, cmdlineDeny);
    this.paths = paths;
    this.keyDeny = keyDeny;
  }

  /** The allow and deny rules of one kind ({@code sysctl}, {@code cmdline}). */
  private record AllowDeny<R extends Rule>(String kind, List<R> allow, List<R> deny) {}

  /** The compiled-in defaults. */
  public static SettingsPolicy defaults() {
    return DEFAULTS;
  }

  /** The text of the compiled-in defaults, which the image builder installs as {@link #FILE}. */
  public static String defaultsText() {
    return DEFAULTS_TEXT;
  }

  /**
   * The policy in {@code file}: the defaults when there is no such file; a policy that refuses
   * everything, saying why, when it cannot be used (unreadable, writable by others, malformed).
   */
  public static SettingsPolicy load(Path file) {
    return SettingsPolicyFile.load(file);
  }

  /** A policy that refuses every request with {@code reason}. */
  static SettingsPolicy broken(String source, String reason) {
    return new SettingsPolicy(
        source, reason, List.of(), List.of(), List.of(), List.of(), Map.of(), Map.of());
  }

  /** The same rules, reported as coming from {@code otherSource}. */
  SettingsPolicy from(String otherSource) {
    return new SettingsPolicy(
        otherSource,
        broken,
        sysctl.allow(),
        sysctl.deny(),
        cmdline.allow(),
        cmdline.deny(),
        paths,
        keyDeny);
  }

  /** Where the policy came from: its file, or "compiled-in defaults". */
  public String source() {
    return source;
  }

  /** Refuses everything when the policy file is malformed. */
  public void requireUsable() {
    if (broken != null) {
      throw new AgentException(
          ErrorCode.POLICY_DENIED,
          "settings policy "
              + source
              + " cannot be used ("
              + broken
              + "): every configure is refused until it is fixed (or removed, which restores the"
              + " compiled-in defaults); nothing was changed");
    }
  }

  /** Checks a sysctl key and value (kernel.sysctl, kernel.sysctl.persist). */
  public void checkSysctl(String model, String key, String value) {
    requireUsable();
    sysctl(model + " key " + key, key, value);
  }

  /**
   * Checks a kernel command-line parameter ({@code name}, or {@code name=value} when the value is
   * not empty); {@code sysctl.KEY} parameters, which set sysctls at boot, also pass the sysctl
   * rules.
   */
  public void checkCmdline(String model, String name, String value) {
    requireUsable();
    String param = value == null || value.isEmpty() ? name : name + "=" + value;
    String subject = model + " parameter " + param;
    if (name.startsWith("sysctl.") && name.length() > "sysctl.".length()) {
      sysctl(subject, name.substring("sysctl.".length()), value);
    }
    denyThenAllow(subject, cmdline, r -> r.matches(name, value), r -> r.matches(name, value));
  }

  private void sysctl(String subject, String key, String value) {
    denyThenAllow(subject, sysctl, r -> r.mayMatch(key, value), r -> r.covers(key, value));
  }

  /** Refuses {@code subject} at the first deny rule that matches, or when no allow rule does. */
  private <R extends Rule> void denyThenAllow(
      String subject, AllowDeny<R> rules, Predicate<R> denies, Predicate<R> allows) {
    for (R r : rules.deny()) {
      if (denies.test(r)) {
        throw denied(subject + " is denied", "deny-" + rules.kind() + " " + r.text());
      }
    }
    if (rules.allow().stream().noneMatch(allows)) {
      throw denied(
          subject + " is not allowed",
          "allow-" + rules.kind() + " " + texts(rules.allow()) + " has none that matches");
    }
  }

  /**
   * Checks a dotted key of a YAML/TOML model ({@code segments} as parsed from {@code key}) against
   * the model's key deny rules.
   */
  public void checkKey(String model, String key, List<String> segments) {
    requireUsable();
    for (KeyRule r : keyDeny.getOrDefault(model, List.of())) {
      if (r.overlaps(segments)) {
        throw denied(model + " key " + key + " is denied", "keys." + model + ".deny " + r.text());
      }
    }
  }

  /**
   * Checks a file a model would write: the path as requested and the real path it resolves to (both
   * absolute, relative to the settings root) must each match one of the model's patterns.
   */
  public void checkPath(String model, String requested, String real) {
    requireUsable();
    List<String> allowed = paths.get(model);
    String rule = "paths." + model + " " + (allowed == null ? "(none)" : allowed);
    if (allowed == null) {
      throw denied(model + " may write no file, " + requested + " is not allowed", rule);
    }
    if (allowed.stream().noneMatch(p -> PathRule.matches(p, requested))) {
      throw denied(model + " configpath " + requested + " is not allowed", rule);
    }
    if (allowed.stream().noneMatch(p -> PathRule.matches(p, real))) {
      throw denied(
          model + " configpath " + requested + " resolves to " + real + ", which is not allowed",
          rule);
    }
  }

  private AgentException denied(String what, String rule) {
    return new AgentException(
        ErrorCode.POLICY_DENIED,
        "settings policy: " + what + " (rule " + rule + ", " + source + "); nothing was changed");
  }

  private static String texts(List<? extends Rule> rules) {
    return rules.stream().map(Rule::text).toList().toString();
  }

  interface Rule {
    String text();
  }
}
