package dev.kubeos.oci.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

/**
 * Docker's {@code config.json} ({@code auths} with {@code auth} = base64(user:password) or {@code
 * username}/{@code password}, {@code credHelpers}, {@code credsStore}), parsed from its text.
 */
public final class DockerConfig {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final JsonNode root;
  private final String source;

  private DockerConfig(JsonNode root, String source) {
    this.root = root;
    this.source = source;
  }

  /** An empty configuration (no file). */
  public static DockerConfig empty() {
    return new DockerConfig(JSON.createObjectNode(), "no docker config");
  }

  /**
   * @param source the file name, for messages
   * @throws AgentException INVALID_REQUEST when the text is not a JSON object
   */
  public static DockerConfig parse(String text, String source) {
    try {
      JsonNode root = JSON.readTree(text);
      if (root == null || !root.isObject()) {
        throw new AgentException(
            ErrorCode.INVALID_REQUEST, "docker config " + source + " is not a JSON object");
      }
      return new DockerConfig(root, source);
    } catch (IOException e) {
      throw new AgentException(
          ErrorCode.INVALID_REQUEST,
          "docker config " + source + " is not valid JSON: " + e.getMessage());
    }
  }

  /** The credentials for {@code registry} (as in an image reference, e.g. {@code host:port}). */
  public RegistryCredentials credentialsFor(String registry) {
    JsonNode auths = root.path("auths");
    for (String key : keys(registry)) {
      JsonNode e = auths.get(key);
      if (e == null || !e.isObject()) {
        continue;
      }
      String where = source + " auths[\"" + key + "\"]";
      if (e.hasNonNull("auth") && !e.get("auth").asText().isEmpty()) {
        String decoded;
        try {
          decoded =
              new String(
                  Base64.getDecoder().decode(e.get("auth").asText()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException x) {
          throw new AgentException(
              ErrorCode.INVALID_REQUEST, where + ".auth is not base64 of user:password");
        }
        int colon = decoded.indexOf(':');
        if (colon <= 0) {
          throw new AgentException(
              ErrorCode.INVALID_REQUEST, where + ".auth does not decode to user:password");
        }
        return new RegistryCredentials(
            decoded.substring(0, colon), decoded.substring(colon + 1), null, where);
      }
      if (e.hasNonNull("username") && e.hasNonNull("password")) {
        return new RegistryCredentials(
            e.get("username").asText(), e.get("password").asText(), null, where);
      }
      if (e.hasNonNull("identitytoken")) {
        return new RegistryCredentials(
            "<token>", e.get("identitytoken").asText(), null, where + ".identitytoken");
      }
    }
    JsonNode helpers = root.path("credHelpers");
    for (String key : keys(registry)) {
      if (helpers.hasNonNull(key)) {
        return new RegistryCredentials(
            null, null, helpers.get(key).asText(), source + " credHelpers[\"" + key + "\"]");
      }
    }
    if (root.hasNonNull("credsStore") && !root.get("credsStore").asText().isEmpty()) {
      return new RegistryCredentials(
          null, null, root.get("credsStore").asText(), source + " credsStore");
    }
    return RegistryCredentials.none(source);
  }

  private static List<String> keys(String registry) {
    if (registry.equals(ImageReference.DOCKER_HUB)) {
      return List.of(
          "https://index.docker.io/v1/",
          "index.docker.io",
          "docker.io",
          "registry-1.docker.io",
          "https://registry-1.docker.io");
    }
    return List.of(
        registry,
        "https://" + registry,
        "http://" + registry,
        "https://" + registry + "/v2/",
        "http://" + registry + "/v2/");
  }
}
