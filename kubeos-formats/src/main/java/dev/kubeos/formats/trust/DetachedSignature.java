package dev.kubeos.formats.trust;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * The {@code PAYLOAD.sig} file published next to an http/file payload (docs/signatures.md):
 *
 * <pre>{@code
 * {
 *   "kind": "kubeos-detached-signature/v1",
 *   "signatures": [
 *     {
 *       "mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
 *       "payload": "<base64 of the simple-signing document naming sha256:<payload digest>>",
 *       "signature": "<base64 of the ASN.1 DER ECDSA P-256 signature over the payload bytes>"
 *     }
 *   ]
 * }
 * }</pre>
 *
 * Each entry is what cosign puts into one layer of a signature manifest (payload blob, media type,
 * {@code dev.cosignproject.cosign/signature} annotation), so one verifier serves both.
 */
public final class DetachedSignature {
  public static final String KIND = "kubeos-detached-signature/v1";

  /** Upper bound of a {@code .sig} file the agent reads. */
  public static final int MAX_BYTES = 1 << 20;

  private static final ObjectMapper MAPPER =
      new ObjectMapper()
          .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
          .enable(SerializationFeature.INDENT_OUTPUT);

  private DetachedSignature() {}

  /** Renders a {@code .sig} file holding {@code entries} (payload bytes + base64 signature). */
  public static byte[] render(List<SignedPayload> entries) {
    ObjectNode root = MAPPER.createObjectNode();
    root.put("kind", KIND);
    ArrayNode list = root.putArray("signatures");
    for (SignedPayload e : entries) {
      if (e.problem() != null) {
        throw new IllegalArgumentException("cannot publish an unusable signature: " + e.problem());
      }
      ObjectNode o = list.addObject();
      o.put("mediaType", SimpleSigning.MEDIA_TYPE);
      o.put("payload", Base64.getEncoder().encodeToString(e.payload()));
      o.put("signature", e.signature());
    }
    try {
      return (MAPPER.writeValueAsString(root) + "\n").getBytes(StandardCharsets.UTF_8);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Reads a {@code .sig} file. A file that is not this format gives one unusable entry saying why;
   * an entry that is malformed gives an unusable entry; the others are returned as published.
   *
   * @param origin names the file in messages
   */
  public static List<SignedPayload> parse(byte[] bytes, String origin) {
    JsonNode root;
    try {
      root = MAPPER.readTree(bytes);
    } catch (IOException e) {
      return List.of(
          SignedPayload.unusable(
              origin,
              "not a KubeOS signature file (not JSON: "
                  + message(e).lines().findFirst().orElse("")
                  + ")"));
    }
    if (root == null
        || !root.isObject()
        || !KIND.equals(root.path("kind").asText(null))
        || !root.path("signatures").isArray()) {
      return List.of(
          SignedPayload.unusable(
              origin, "not a KubeOS signature file (expected kind '" + KIND + "' and signatures)"));
    }
    List<SignedPayload> out = new ArrayList<>();
    int i = 0;
    for (JsonNode e : root.get("signatures")) {
      i++;
      String where = origin + " #" + i;
      String mediaType = e.path("mediaType").asText(SimpleSigning.MEDIA_TYPE);
      String payload = e.path("payload").asText(null);
      String signature = e.path("signature").asText(null);
      if (!SimpleSigning.MEDIA_TYPE.equals(mediaType)) {
        out.add(SignedPayload.unusable(where, "media type '" + mediaType + "' is not supported"));
      } else if (payload == null || signature == null) {
        out.add(SignedPayload.unusable(where, "payload or signature missing"));
      } else {
        try {
          out.add(SignedPayload.of(where, Base64.getDecoder().decode(payload), signature));
        } catch (IllegalArgumentException ex) {
          out.add(SignedPayload.unusable(where, "payload is not base64"));
        }
      }
    }
    if (out.isEmpty()) {
      out.add(SignedPayload.unusable(origin, "the signature file lists no signature"));
    }
    return out;
  }

  private static String message(IOException e) {
    return e instanceof com.fasterxml.jackson.core.JsonProcessingException j
        ? j.getOriginalMessage()
        : String.valueOf(e.getMessage());
  }
}
