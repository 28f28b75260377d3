package dev.kubeos.formats.trust;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The node's trust policy, {@value #FILE} in the trust directory ({@code /etc/KubeOS/trust}), baked
 * into the image by the image builder:
 *
 * <pre>{@code
 * {"require_signatures": true, "keys": ["release.pub"]}
 * }</pre>
 *
 * {@code keys} name PEM public keys (ECDSA P-256) in the same directory. Unknown fields are errors,
 * so a typo never turns signature checking off silently.
 *
 * @param requireSignatures refuse payloads without a valid signature by one of {@code keys}
 * @param keys file names of the trusted public keys
 */
public record TrustPolicy(
    @JsonProperty("require_signatures") boolean requireSignatures,
    @JsonProperty("keys") List<String> keys) {

  public static final String FILE = "policy.json";

  /** No policy: signatures are not checked. */
  public static final TrustPolicy NONE = new TrustPolicy(false, List.of());

  private static final Pattern KEY_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,99}\\.pub");

  private static final ObjectMapper MAPPER =
      new ObjectMapper()
          .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
          .enable(SerializationFeature.INDENT_OUTPUT);

  /**
   * @throws IllegalArgumentException when a key name is not a plain {@code NAME.pub} file name, is
   *     listed twice, or signatures are required without any key
   */
  public TrustPolicy {
    keys = List.copyOf(keys == null ? List.of() : keys);
    Set<String> seen = new HashSet<>();
    for (String k : keys) {
      if (k == null || !KEY_NAME.matcher(k).matches()) {
        throw new IllegalArgumentException(
            "trusted key name '" + k + "' must be a file name like release.pub (" + KEY_NAME + ")");
      }
      if (!seen.add(k)) {
        throw new IllegalArgumentException("trusted key " + k + " is listed twice");
      }
    }
    if (requireSignatures && keys.isEmpty()) {
      throw new IllegalArgumentException(
          "require_signatures is set but no key is trusted: every payload would be refused");
    }
  }

  /** Whether the policy checks anything at all. */
  public boolean checksSignatures() {
    return requireSignatures || !keys.isEmpty();
  }

  /**
   * Parses {@value #FILE}.
   *
   * @param origin names the file in messages
   * @throws IllegalArgumentException saying what is wrong
   */
  public static TrustPolicy parse(String json, String origin) {
    try {
      TrustPolicy p = MAPPER.readValue(json, TrustPolicy.class);
      if (p == null) {
        throw new IllegalArgumentException(origin + " is empty");
      }
      return p;
    } catch (IOException e) {
      Throwable cause = e.getCause() instanceof IllegalArgumentException ? e.getCause() : e;
      String msg =
          cause instanceof JsonProcessingException jpe
              ? jpe.getOriginalMessage()
              : cause.getMessage();
      throw new IllegalArgumentException(
          origin
              + " is not a valid trust policy: "
              + msg.lines().findFirst().orElse("")
              + " (expected {\"require_signatures\": true|false, \"keys\": [\"NAME.pub\", ...]})");
    }
  }

  /** The file's text. */
  public String toJson() {
    try {
      return MAPPER.writeValueAsString(this) + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
