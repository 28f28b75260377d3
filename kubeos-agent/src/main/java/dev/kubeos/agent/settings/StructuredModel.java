package dev.kubeos.agent.settings;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.kubeos.agent.settings.model.ChangeOperation;
import dev.kubeos.agent.settings.model.Invalid;
import dev.kubeos.agent.settings.model.KeyPath;
import dev.kubeos.agent.settings.model.ModelSettings;
import dev.kubeos.agent.settings.model.SettingChange;
import dev.kubeos.agent.settings.model.TomlText;
import dev.kubeos.agent.settings.model.TreeEdit;
import dev.kubeos.agent.settings.model.YamlText;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code kubernetes.kubelet} (YAML) and {@code container.containerd} (TOML): dotted keys into
 * nested maps, edited at the line level. The file must parse before, and after each change it must
 * parse to exactly the tree the change means ({@link TreeEdit}); otherwise nothing is written.
 */
final class StructuredModel implements SettingsModel {
  static final String KUBELET = "kubernetes.kubelet";
  static final String CONTAINERD = "container.containerd";

  private final String name;
  private final String defaultPath;
  private final boolean yaml;
  // made on first use: only configure needs one, and every (socket-activated) start of the agent
  // wires this model
  private ObjectMapper mapper;

  private StructuredModel(String name, String defaultPath, boolean yaml) {
    this.name = name;
    this.defaultPath = defaultPath;
    this.yaml = yaml;
  }

  private synchronized ObjectMapper mapper() {
    if (mapper == null) {
      mapper = yaml ? new YAMLMapper() : new TomlMapper();
    }
    return mapper;
  }

  static StructuredModel kubelet() {
    return new StructuredModel(KUBELET, "/var/lib/kubelet/config.yaml", true);
  }

  static StructuredModel containerd() {
    return new StructuredModel(CONTAINERD, "/etc/containerd/config.toml", false);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public void plan(ModelSettings settings, SettingsPlan plan) {
    plan.editFile(
        name, settings.configPath(), defaultPath, (file, text) -> edit(file, text, settings, plan));
  }

  /** Applies every change to {@code text}, checking each against the file's parsed tree. */
  private String edit(Path file, String text, ModelSettings settings, SettingsPlan plan) {
    JsonNode tree = parse(text, file, null, "does not parse as " + format() + " now");
    for (SettingChange c : settings.contents()) {
      List<String> path = KeyPath.parse(name, c.key());
      plan.policy().checkKey(name, c.key(), path);
      if (c.operation() != ChangeOperation.DELETE
          && (c.value() == null || c.value().isNull() || c.value().isMissingNode())) {
        throw Invalid.of(name, c.key(), "value missing (use operation delete to remove a key)");
      }
      for (TreeEdit.Leaf leaf : TreeEdit.leaves(path, c.value(), c.operation())) {
        JsonNode expected = TreeEdit.apply(name, tree, leaf);
        String next = yaml ? YamlText.apply(name, text, leaf) : TomlText.apply(name, text, leaf);
        JsonNode got = parse(next, file, c.key(), "would not parse as " + format() + " after");
        if (!TreeEdit.same(got, expected)) {
          throw Invalid.of(
              name,
              c.key(),
              "the file's layout at this key cannot be edited line by line without changing"
                  + " other settings (expected "
                  + expected
                  + ", got "
                  + got
                  + "); edit it by hand or set the parent with operation replace");
        }
        text = next;
        tree = expected;
      }
    }
    return text;
  }

  private JsonNode parse(String text, Path file, String key, String what) {
    if (text.isBlank()) {
      return JsonNodeFactory.instance.objectNode();
    }
    try {
      JsonNode n = mapper().readTree(text);
      if (n == null || n.isMissingNode() || n.isNull()) {
        return JsonNodeFactory.instance.objectNode();
      }
      if (!n.isObject()) {
        throw Invalid.of(name, key, file + " " + what + ": the top level is not a map");
      }
      return n;
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw Invalid.of(name, key, file + " " + what + ": " + e.getOriginalMessage());
    }
  }

  private String format() {
    return yaml ? "YAML" : "TOML";
  }
}
