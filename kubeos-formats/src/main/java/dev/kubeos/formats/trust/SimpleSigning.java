package dev.kubeos.formats.trust;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubeos.formats.digest.Sha256;
import java.io.IOException;
import java.util.Collections;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The signed statement: a cosign "simple signing" payload naming the digest of what is signed.
 *
 * <p>cosign signs these bytes (ECDSA P-256 over their SHA-256); the signature is detached and the
 * payload carries the digest, so a node checks the signature before it downloads anything and the
 * streamed payload is then checked against the signed digest. The byte layout of {@link #toBytes()}
 * is cosign's (compact JSON, {@code critical} with identity, image, type, then {@code optional},
 * {@code null} when empty, its keys sorted), so cosign verifies what this class builds.
 *
 * @param dockerReference where the signed thing was published (informative: cosign ignores it and
 *     so do we, a registry mirror or a moved file must not break the signature)
 * @param digest the digest signed for: an OCI manifest digest or a file payload's SHA-256
 * @param optional extra claims (cosign's {@code -a key=value}); KubeOS uses {@link #VERSION_CLAIM}
 */
public record SimpleSigning(String dockerReference, Sha256 digest, Map<String, String> optional) {
  /** {@code critical.type} of cosign signatures. */
  public static final String TYPE = "cosign container image signature";

  /** Media type of the payload blob in a signature manifest. */
  public static final String MEDIA_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json";

  /** Optional claim: the OS version the signed payload holds; checked against the request. */
  public static final String VERSION_CLAIM = "dev.kubeos/version";

  private static final ObjectMapper MAPPER =
      new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  public SimpleSigning {
    if (dockerReference == null) {
      throw new IllegalArgumentException("docker-reference is required");
    }
    if (digest == null) {
      throw new IllegalArgumentException("the digest is required");
    }
    optional = Collections.unmodifiableMap(new TreeMap<>(optional == null ? Map.of() : optional));
  }

  /** The version claim, when the signer made one. */
  public Optional<String> version() {
    return Optional.ofNullable(optional.get(VERSION_CLAIM));
  }

  /** The bytes that are signed, laid out as cosign lays them out. */
  public byte[] toBytes() {
    JsonNodeFactory f = JsonNodeFactory.instance;
    ObjectNode root = f.objectNode();
    ObjectNode critical = root.putObject("critical");
    critical.putObject("identity").put("docker-reference", dockerReference);
    critical.putObject("image").put("docker-manifest-digest", digest.toString());
    critical.put("type", TYPE);
    if (optional.isEmpty()) {
      root.putNull("optional");
    } else {
      ObjectNode o = root.putObject("optional");
      optional.forEach(o::put);
    }
    try {
      return MAPPER.writeValueAsBytes(root);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Reads a simple-signing payload. Strict: duplicate keys, a missing or foreign {@code
   * critical.type} and a digest that is not {@code sha256:<64 hex>} are refused.
   *
   * @throws IllegalArgumentException saying what is wrong
   */
  public static SimpleSigning parse(byte[] bytes) {
    JsonNode root;
    try {
      root = MAPPER.readTree(bytes);
    } catch (IOException e) {
      throw new IllegalArgumentException("not JSON: " + message(e).lines().findFirst().orElse(""));
    }
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException("not a JSON object");
    }
    JsonNode critical = root.get("critical");
    if (critical == null || !critical.isObject()) {
      throw new IllegalArgumentException("no 'critical' object");
    }
    String type = text(critical.get("type"));
    if (!TYPE.equals(type)) {
      throw new IllegalArgumentException(
          "critical.type is '" + type + "', expected '" + TYPE + "'");
    }
    JsonNode image = critical.get("image");
    String digest = image == null ? null : text(image.get("docker-manifest-digest"));
    if (digest == null || !digest.startsWith("sha256:")) {
      throw new IllegalArgumentException(
          "critical.image.docker-manifest-digest is '" + digest + "', expected sha256:<hex>");
    }
    Sha256 sha;
    try {
      sha = Sha256.parse(digest);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          "critical.image.docker-manifest-digest '" + digest + "' is not a SHA-256 digest");
    }
    JsonNode identity = critical.get("identity");
    String reference = identity == null ? null : text(identity.get("docker-reference"));
    Map<String, String> optional = new TreeMap<>();
    JsonNode o = root.get("optional");
    if (o != null && o.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        optional.put(
            e.getKey(), e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString());
      }
    } else if (o != null && !o.isNull()) {
      throw new IllegalArgumentException("'optional' is neither an object nor null");
    }
    return new SimpleSigning(reference == null ? "" : reference, sha, optional);
  }

  private static String text(JsonNode n) {
    return n != null && n.isTextual() ? n.asText() : null;
  }

  private static String message(IOException e) {
    return e instanceof com.fasterxml.jackson.core.JsonProcessingException j
        ? j.getOriginalMessage()
        : String.valueOf(e.getMessage());
  }
}
