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
import java.io.IOException;
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
import java.util.function.BiFunction;

/**
 * The settings policy's file format (docs/settings.md, "Settings policy"): reading the node's file
 * and parsing it strictly, so that a misspelt member or rule never silently allows more.
 */
final class SettingsPolicyFile {
  private static final Set<String> FILE_MODELS =
      Set.of("kernel.sysctl.persist", "kubernetes.kubelet", "container.containerd", "pam.limits");
  private static final Set<String> KEY_MODELS =
      Set.of("kubernetes.kubelet", "container.containerd");

  private SettingsPolicyFile() {}

  static SettingsPolicy load(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return SettingsPolicy.defaults().from(SettingsPolicy.DEFAULTS_SOURCE + ", no " + file);
    } catch (IOException | RuntimeException e) {
      return SettingsPolicy.broken(file.toString(), "cannot be read: " + e);
    }
    try {
      Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file);
      if (mode.contains(PosixFilePermission.GROUP_WRITE)
          || mode.contains(PosixFilePermission.OTHERS_WRITE)) {
        return SettingsPolicy.broken(
            file.toString(),
            "it is writable by group or others ("
                + PosixFilePermissions.toString(mode)
                + "), so it cannot bound anything; chmod 0644 it");
      }
    } catch (IOException | UnsupportedOperationException e) {
      return SettingsPolicy.broken(file.toString(), "cannot read its mode: " + e);
    }
    try {
      return parse(text, file.toString());
    } catch (IllegalArgumentException e) {
      return SettingsPolicy.broken(file.toString(), e.getMessage());
    }
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
    List<SysctlRule> sysctlAllow = rules(sysctl, "sysctl.allow", true, SysctlRule::parse);
    List<SysctlRule> sysctlDeny = rules(sysctl, "sysctl.deny", false, SysctlRule::parse);
    List<CmdlineRule> cmdlineAllow = rules(cmdline, "cmdline.allow", true, CmdlineRule::parse);
    List<CmdlineRule> cmdlineDeny = rules(cmdline, "cmdline.deny", false, CmdlineRule::parse);
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

  /** The rules of list {@code where} of {@code section}, each parsed by {@code parse}. */
  private static <R> List<R> rules(
      JsonNode section, String where, boolean required, BiFunction<String, String, R> parse) {
    List<R> out = new ArrayList<>();
    for (String r : strings(section, where, required)) {
      out.add(parse.apply(r, where));
    }
    return out;
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
}
