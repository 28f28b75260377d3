package dev.kubeos.agent.settings.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ConfigureRequest;
import dev.kubeos.api.agent.ErrorCode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * One settings request, whichever shape it came in: the CR's {@code sysconfigs} ({@code contents}
 * is a list of {key, value, operation}) or the socket's {@link ConfigureRequest} ({@code contents}
 * is a map key -> {value, operation}).
 *
 * @param version the settings version; {@code --revert VERSION} restores the state before it
 * @param configs per-model settings, applied in order
 */
public record SettingsRequest(String version, List<ModelSettings> configs) {
  public SettingsRequest {
    configs = List.copyOf(configs);
  }

  /** Parses the CR shape {@code {version, configs: [{model, configpath?, contents: [...]}]}}. */
  public static SettingsRequest fromCr(JsonNode root) {
    if (root == null || !root.isObject()) {
      throw bad("the request must be a JSON object {version, configs: [...]}");
    }
    String version = text(root.get("version"));
    JsonNode configs = root.get("configs");
    if (configs == null || !configs.isArray()) {
      throw bad("'configs' must be an array of {model, configpath, contents}");
    }
    List<ModelSettings> out = new ArrayList<>();
    for (JsonNode c : configs) {
      String model = text(c.get("model"));
      String path = text(c.has("configpath") ? c.get("configpath") : c.get("config_path"));
      JsonNode contents = c.get("contents");
      List<SettingChange> changes = new ArrayList<>();
      if (contents != null && contents.isArray()) {
        for (JsonNode e : contents) {
          String key = text(e.get("key"));
          changes.add(
              new SettingChange(
                  key,
                  e.get("value"),
                  ChangeOperation.parse(model, key, text(e.get("operation")))));
        }
      } else if (contents != null && contents.isObject()) {
        contents
            .fields()
            .forEachRemaining(f -> changes.add(entry(model, f.getKey(), f.getValue())));
      } else if (contents != null && !contents.isNull()) {
        throw Invalid.of(model, null, "'contents' must be a list of {key, value, operation}");
      }
      out.add(new ModelSettings(model, path, changes));
    }
    return new SettingsRequest(version == null ? derivedVersion(root.toString()) : version, out);
  }

  /** Maps the socket shape; without a version, one is derived from the content (sha-...). */
  public static SettingsRequest fromSocket(ConfigureRequest request) {
    if (request == null || request.configs() == null) {
      throw bad("configure needs {\"configs\": [...]}");
    }
    List<ModelSettings> out = new ArrayList<>();
    for (ConfigureRequest.Sysconfig s : request.configs()) {
      List<SettingChange> changes = new ArrayList<>();
      if (s.contents() != null) {
        for (Map.Entry<String, ConfigureRequest.KeyInfo> e : s.contents().entrySet()) {
          ConfigureRequest.KeyInfo info = e.getValue();
          changes.add(
              new SettingChange(
                  e.getKey(),
                  info == null ? null : info.value(),
                  ChangeOperation.parse(
                      s.model(), e.getKey(), info == null ? null : info.operation())));
        }
      }
      out.add(new ModelSettings(s.model(), s.configPath(), changes));
    }
    String version = request.version();
    if (version == null || version.isBlank()) {
      version = derivedVersion(out.toString());
    }
    return new SettingsRequest(version, out);
  }

  private static SettingChange entry(String model, String key, JsonNode info) {
    if (info != null && info.isObject() && (info.has("value") || info.has("operation"))) {
      return new SettingChange(
          key, info.get("value"), ChangeOperation.parse(model, key, text(info.get("operation"))));
    }
    return new SettingChange(key, info, ChangeOperation.UPDATE);
  }

  /** A stable version for a request that has none: {@code sha-} and 12 hex digits of content. */
  static String derivedVersion(String content) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(content.getBytes(StandardCharsets.UTF_8));
      return "sha-" + HexFormat.of().formatHex(digest).substring(0, 12);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String text(JsonNode n) {
    return n == null || n.isNull() ? null : n.asText();
  }

  private static AgentException bad(String message) {
    return new AgentException(ErrorCode.INVALID_REQUEST, "settings request: " + message);
  }
}
