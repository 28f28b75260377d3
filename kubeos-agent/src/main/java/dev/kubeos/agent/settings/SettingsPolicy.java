package dev.kubeos.agent.settings;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.kubeos.agent.settings.PolicyRules.CmdlineRule;
import dev.kubeos.agent.settings.PolicyRules.KeyRule;
import dev.kubeos.agent.settings.PolicyRules.PathRule;
import dev.kubeos.agent.settings.PolicyRules.SysctlRule;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The node's own limits on settings, enforced whatever the cluster asks (docs/settings.md,
 * "Settings policy"): allowed and denied sysctl keys (also for {@code sysctl.*} kernel parameters),
 * kernel command-line parameters, and the files each model may write. Deny rules win over allow
 * rules. A refusal is {@link ErrorCode#POLICY_DENIED} naming the rule and the policy's source.
 *
 * <p>The node's file is {@link #FILE} (JSON or YAML); without it the compiled-in defaults apply
 * (the same text the image builder installs there, {@link #defaultsText()}); a malformed file
 * refuses every configure (fail closed).
 */
public final class SettingsPolicy {
  /** Where the node's policy lives. */
  public static final Path FILE = Path.of("/etc/KubeOS/settings-policy.json");

  private static final Set<String> FILE_MODELS =
      Set.of("kernel.sysctl.persist", "kubernetes.kubelet", "container.containerd", "pam.limits");
  private static final Set<String> KEY_MODELS =
      Set.of("kubernetes.kubelet", "container.containerd");
  private static final String DEFAULTS_SOURCE = "compiled-in defaults";
  private static final String DEFAULTS_TEXT = readDefaults();
  private static final SettingsPolicy DEFAULTS = parse(DEFAULTS_TEXT, DEFAULTS_SOURCE);

  private final String source;
  private final String broken;
  private final List<SysctlRule> sysctlAllow;
  private final List<SysctlRule> sysctlDeny;
  private final List<CmdlineRule> cmdlineAllow;
  private final List<CmdlineRule> cmdlineDeny;
  private final Map<String, List<String>> paths;
  private final Map<String, List<KeyRule>> keyDeny;

  private SettingsPolicy(
      String source,
      String broken,
      List<SysctlRule> sysctlAllow,
      List<SysctlRule> sysctlDeny,
      List<CmdlineRule> cmdlineAllow,
      List<CmdlineRule> cmdlineDeny,
      Map<String, List<String>> paths,
      Map<String, List<KeyRule>> keyDeny) {
    this.source = source;
    this.keyDeny = keyDeny;
    this.broken = broken;
    this.sysctlAllow = sysctlAllow;
    this.sysctlDeny = sysctlDeny;
    this.cmdlineAllow = cmdlineAllow;
    this.cmdlineDeny = cmdlineDeny;
    this.paths = paths;
  }

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
   * everything, saying why, when it cannot be read or is malformed.
   */
  public static SettingsPolicy load(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return DEFAULTS.from(DEFAULTS_SOURCE + ", no " + file);
    } catch (IOException | RuntimeException e) {
      return broken(file.toString(), "cannot be read: " + e);
    }
    try {
      Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file);
      if (mode.contains(PosixFilePermission.GROUP_WRITE)
          || mode.contains(PosixFilePermission.OTHERS_WRITE)) {
        return broken(
            file.toString(),
            "it is writable by group or others ("
                + PosixFilePermissions.toString(mode)
                + "), so it cannot bound anything; chmod 0644 it");
      }
    } catch (IOException | UnsupportedOperationException e) {
      return broken(file.toString(), "cannot read its mode: " + e);
    }
    try {
      return parse(text, file.toString());
    } catch (IllegalArgumentException e) {
      return broken(file.toString(), e.getMessage());
    }
  }

  /** A policy that refuses every request with {@code reason}. */
  static SettingsPolicy broken(String source, String reason) {
    return new SettingsPolicy(
        source, reason, List.of(), List.of(), List.of(), List.of(), Map.of(), Map.of());
  }

  /**
   * Parses the policy text (JSON, or YAML when it does not start with {@code {}); throws {@link
   * IllegalArgumentException} saying what is wrong. Unknown members are errors, so a misspelt rule
   * never silently allows more.
   */
  static SettingsPolicy parse(String text, String source) {
    ObjectMapper mapper =
        text.stripLeading().startsWith("{") ? new ObjectMapper() : new YAMLMapper();
    mapper.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    JsonNode root;
    try {
      root = mapper.readTree(text);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("does not parse: " + e.getOriginalMessage());
    }
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException("the top level must be a map {sysctl, cmdline, paths}");
    }
    members(root, "", Set.of("description", "sysctl", "cmdline", "paths", "keys"));
    JsonNode sysctl = section(root, "sysctl");
    JsonNode cmdline = section(root, "cmdline");
    JsonNode pathsNode = section(root, "paths");
    List<SysctlRule> sysctlAllow = new ArrayList<>();
    for (String r : strings(sysctl, "sysctl.allow", true)) {
      sysctlAllow.add(SysctlRule.parse(r, "sysctl.allow"));
    }
    List<SysctlRule> sysctlDeny = new ArrayList<>();
    for (String r : strings(sysctl, "sysctl.deny", false)) {
      sysctlDeny.add(SysctlRule.parse(r, "sysctl.deny"));
    }
    List<CmdlineRule> cmdlineAllow = new ArrayList<>();
    for (String r : strings(cmdline, "cmdline.allow", true)) {
      cmdlineAllow.add(CmdlineRule.parse(r, "cmdline.allow"));
    }
    List<CmdlineRule> cmdlineDeny = new ArrayList<>();
    for (String r : strings(cmdline, "cmdline.deny", false)) {
      cmdlineDeny.add(CmdlineRule.parse(r, "cmdline.deny"));
    }
    Map<String, List<String>> paths = new LinkedHashMap<>();
    for (Iterator<String> it = pathsNode.fieldNames(); it.hasNext(); ) {
      String model = it.next();
      if (!FILE_MODELS.contains(model)) {
        throw new IllegalArgumentException(
            "paths." + model + ": not a model that writes files (" + FILE_MODELS + ")");
      }
      List<String> patterns = new ArrayList<>();
      for (String p : strings(pathsNode, "paths." + model, true)) {
        patterns.add(PathRule.check(p, "paths." + model));
      }
      paths.put(model, List.copyOf(patterns));
    }
    Map<String, List<KeyRule>> keyDeny = new LinkedHashMap<>();
    JsonNode keys = root.get("keys");
    if (keys != null) {
      if (!keys.isObject()) {
        throw new IllegalArgumentException("'keys' is not a map");
      }
      for (Iterator<String> it = keys.fieldNames(); it.hasNext(); ) {
        String model = it.next();
        if (!KEY_MODELS.contains(model)) {
          throw new IllegalArgumentException(
              "keys." + model + ": not a model with dotted keys (" + KEY_MODELS + ")");
        }
        JsonNode m = keys.get(model);
        if (!m.isObject()) {
          throw new IllegalArgumentException("'keys." + model + "' is not a map");
        }
        members(m, "keys." + model + ".", Set.of("deny"));
        List<KeyRule> rules = new ArrayList<>();
        for (String r : strings(m, "keys." + model + ".deny", false)) {
          rules.add(KeyRule.parse(r, "keys." + model + ".deny"));
        }
        keyDeny.put(model, List.copyOf(rules));
      }
    }
    return new SettingsPolicy(
        source,
        null,
        List.copyOf(sysctlAllow),
        List.copyOf(sysctlDeny),
        List.copyOf(cmdlineAllow),
        List.copyOf(cmdlineDeny),
        Map.copyOf(paths),
        Map.copyOf(keyDeny));
  }

  private SettingsPolicy from(String otherSource) {
    return new SettingsPolicy(
        otherSource, broken, sysctlAllow, sysctlDeny, cmdlineAllow, cmdlineDeny, paths, keyDeny);
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
    for (CmdlineRule r : cmdlineDeny) {
      if (r.matches(name, value)) {
        throw denied(subject + " is denied", "deny-cmdline " + r.text());
      }
    }
    if (cmdlineAllow.stream().noneMatch(r -> r.matches(name, value))) {
      throw denied(
          subject + " is not allowed",
          "allow-cmdline " + texts(cmdlineAllow) + " has none that matches");
    }
  }

  private void sysctl(String subject, String key, String value) {
    for (SysctlRule r : sysctlDeny) {
      if (r.mayMatch(key, value)) {
        throw denied(subject + " is denied", "deny-sysctl " + r.text());
      }
    }
    if (sysctlAllow.stream().noneMatch(r -> r.covers(key, value))) {
      throw denied(
          subject + " is not allowed",
          "allow-sysctl " + texts(sysctlAllow) + " has none that matches");
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

  private static JsonNode section(JsonNode root, String name) {
    JsonNode n = root.get(name);
    if (n == null || !n.isObject()) {
      throw new IllegalArgumentException("'" + name + "' is missing or not a map");
    }
    if (!name.equals("paths")) {
      members(n, name + ".", Set.of("allow", "deny"));
    }
    return n;
  }

  private static void members(JsonNode node, String prefix, Set<String> known) {
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!known.contains(f)) {
        throw new IllegalArgumentException(
            "unknown member '" + prefix + f + "' (known: " + known + ")");
      }
    }
  }

  private static List<String> strings(JsonNode parent, String where, boolean required) {
    String last = where.substring(where.lastIndexOf('.') + 1);
    JsonNode n = where.startsWith("paths.") ? parent.get(where.substring(6)) : parent.get(last);
    if (n == null || n.isNull()) {
      if (required) {
        throw new IllegalArgumentException("'" + where + "' is missing");
      }
      return List.of();
    }
    if (!n.isArray()) {
      throw new IllegalArgumentException("'" + where + "' must be a list of strings");
    }
    List<String> out = new ArrayList<>();
    for (JsonNode e : n) {
      if (!e.isTextual() || e.asText().isBlank()) {
        throw new IllegalArgumentException(
            "'" + where + "' has an entry that is not a string: " + e);
      }
      out.add(e.asText().strip());
    }
    return out;
  }

  private static String readDefaults() {
    try (InputStream in = SettingsPolicy.class.getResourceAsStream("settings-policy.json")) {
      if (in == null) {
        throw new IllegalStateException("settings-policy.json missing from the agent jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
