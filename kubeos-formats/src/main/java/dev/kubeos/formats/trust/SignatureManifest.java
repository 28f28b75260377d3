package dev.kubeos.formats.trust;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubeos.formats.digest.Sha256;
import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * cosign's signature image for an OCI payload (its SIGNATURE_SPEC, tag-based discovery): an OCI
 * image manifest stored in the payload's repository at tag {@code sha256-<hex>.sig}, one layer per
 * signature whose blob is the {@link SimpleSigning} payload ({@link SimpleSigning#MEDIA_TYPE}) and
 * whose annotation {@value #SIGNATURE_ANNOTATION} holds the base64 DER signature.
 *
 * <p>Pure: builds the manifest, config and blobs to push, and turns fetched bytes back into {@link
 * SignedPayload}s, checking each blob against its descriptor. Moving the bytes is the registry
 * client's job.
 */
public final class SignatureManifest {
  public static final String MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json";
  public static final String CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json";
  public static final String SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature";

  /** Upper bound of a signature manifest or payload blob the agent reads. */
  public static final int MAX_BYTES = 1 << 20;

  private static final ObjectMapper MAPPER =
      new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  private SignatureManifest() {}

  /**
   * What to push: the manifest (at {@link #tag}), and the blobs by digest (config and payloads).
   */
  public record Built(byte[] manifest, Map<String, byte[]> blobs) {}

  /** The tag cosign stores the signatures of {@code digest} under: {@code sha256-<hex>.sig}. */
  public static String tag(Sha256 digest) {
    return "sha256-" + digest.hex() + ".sig";
  }

  /** Builds the signature image for {@code signatures} (usable ones only). */
  public static Built build(List<SignedPayload> signatures) {
    Map<String, byte[]> blobs = new LinkedHashMap<>();
    ObjectNode config = MAPPER.createObjectNode();
    config.put("architecture", "");
    config.put("os", "");
    ObjectNode rootfs = config.putObject("rootfs");
    rootfs.put("type", "layers");
    ArrayNode diffIds = rootfs.putArray("diff_ids");
    config.putObject("config");
    ObjectNode manifest = MAPPER.createObjectNode();
    manifest.put("schemaVersion", 2);
    manifest.put("mediaType", MANIFEST_MEDIA_TYPE);
    ObjectNode configRef = manifest.putObject("config");
    ArrayNode layers = manifest.putArray("layers");
    for (SignedPayload s : signatures) {
      if (s.problem() != null) {
        throw new IllegalArgumentException("cannot publish an unusable signature: " + s.problem());
      }
      byte[] payload = s.payload();
      String digest = digest(payload);
      blobs.put(digest, payload);
      diffIds.add(digest);
      ObjectNode layer = layers.addObject();
      layer.put("mediaType", SimpleSigning.MEDIA_TYPE);
      layer.put("size", payload.length);
      layer.put("digest", digest);
      layer.putObject("annotations").put(SIGNATURE_ANNOTATION, s.signature());
    }
    byte[] configBytes = bytes(config);
    String configDigest = digest(configBytes);
    blobs.put(configDigest, configBytes);
    configRef.put("mediaType", CONFIG_MEDIA_TYPE);
    configRef.put("size", configBytes.length);
    configRef.put("digest", configDigest);
    return new Built(bytes(manifest), blobs);
  }

  /**
   * The signatures a fetched signature manifest holds. Layers of other media types are skipped; a
   * layer without the signature annotation, a missing blob, or a blob whose digest or size differs
   * from its descriptor gives an unusable entry saying so.
   *
   * @param blobs fetches a blob by digest ({@code sha256:<hex>}); returns null when absent
   * @param origin names the manifest in messages
   */
  public static List<SignedPayload> read(
      byte[] manifest, Function<String, byte[]> blobs, String origin) {
    JsonNode root;
    try {
      root = MAPPER.readTree(manifest);
    } catch (IOException e) {
      return List.of(SignedPayload.unusable(origin, "signature manifest is not JSON"));
    }
    if (root == null || !root.isObject() || !root.path("layers").isArray()) {
      return List.of(SignedPayload.unusable(origin, "signature manifest has no layers"));
    }
    List<SignedPayload> out = new ArrayList<>();
    for (JsonNode layer : root.get("layers")) {
      if (!SimpleSigning.MEDIA_TYPE.equals(layer.path("mediaType").asText())) {
        continue;
      }
      String digest = layer.path("digest").asText("");
      String where = origin + " layer " + digest;
      String signature = layer.path("annotations").path(SIGNATURE_ANNOTATION).asText(null);
      long size = layer.path("size").asLong(-1);
      if (signature == null) {
        out.add(SignedPayload.unusable(where, "no " + SIGNATURE_ANNOTATION + " annotation"));
        continue;
      }
      if (!digest.matches("sha256:[0-9a-f]{64}") || size < 0 || size > MAX_BYTES) {
        out.add(SignedPayload.unusable(where, "layer descriptor has a bad digest or size"));
        continue;
      }
      byte[] blob = blobs.apply(digest);
      if (blob == null) {
        out.add(SignedPayload.unusable(where, "payload blob is missing from the registry"));
      } else if (blob.length != size || !digest(blob).equals(digest)) {
        out.add(SignedPayload.unusable(where, "payload blob does not match its digest and size"));
      } else {
        out.add(SignedPayload.of(where, blob, signature));
      }
    }
    if (out.isEmpty()) {
      out.add(SignedPayload.unusable(origin, "signature manifest holds no cosign signature"));
    }
    return out;
  }

  /** {@code sha256:<hex>} of bytes. */
  public static String digest(byte[] bytes) {
    try {
      return Sha256.of(MessageDigest.getInstance("SHA-256").digest(bytes)).toString();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] bytes(JsonNode node) {
    try {
      return MAPPER.writeValueAsBytes(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
