package dev.kubeos.oci.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.digest.Sha256;
import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A manifest as served by a registry: an image manifest (config + layers) or an image index /
 * manifest list (one manifest per platform).
 *
 * @param mediaType the document's media type (from its {@code mediaType} field, else the
 *     Content-Type it was served with)
 * @param digest SHA-256 of the exact bytes served
 * @param config the image config (image manifests only)
 * @param layers the layers, bottom first (image manifests only)
 * @param manifests the per-platform manifests (indexes only)
 */
public record ManifestDocument(
    String mediaType,
    Sha256 digest,
    Descriptor config,
    List<Descriptor> layers,
    List<Descriptor> manifests) {
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Parses the bytes a registry served for {@code what}.
   *
   * @throws AgentException PAYLOAD_INVALID when it is not a manifest this agent reads
   */
  public static ManifestDocument parse(byte[] body, String contentType, String what) {
    JsonNode root;
    try {
      root = JSON.readTree(body);
    } catch (IOException e) {
      throw invalid(what, "it is not JSON (" + e.getMessage() + ")");
    }
    if (root == null || !root.isObject()) {
      throw invalid(what, "it is not a JSON object");
    }
    String type = root.path("mediaType").asText("");
    if (type.isEmpty()) {
      type = contentType == null ? "" : contentType.split(";")[0].trim();
    }
    if (type.isEmpty() && root.has("manifests")) {
      type = MediaTypes.OCI_INDEX;
    } else if (type.isEmpty() && root.has("layers")) {
      type = MediaTypes.OCI_MANIFEST;
    }
    Sha256 digest = sha256(body);
    if (MediaTypes.isIndex(type)) {
      List<Descriptor> list = new ArrayList<>();
      for (JsonNode m : root.path("manifests")) {
        JsonNode p = m.path("platform");
        String platform =
            p.isObject()
                ? p.path("os").asText("")
                    + "/"
                    + p.path("architecture").asText("")
                    + (p.hasNonNull("variant") ? "/" + p.path("variant").asText() : "")
                : null;
        list.add(descriptor(m, what, platform));
      }
      return new ManifestDocument(type, digest, null, null, List.copyOf(list));
    }
    if (MediaTypes.isManifest(type)) {
      if (root.path("schemaVersion").asInt(0) != 2) {
        throw invalid(what, "schemaVersion is not 2");
      }
      Descriptor config = descriptor(root.path("config"), what, null);
      List<Descriptor> layers = new ArrayList<>();
      for (JsonNode l : root.path("layers")) {
        layers.add(descriptor(l, what, null));
      }
      return new ManifestDocument(type, digest, config, List.copyOf(layers), null);
    }
    throw new AgentException(
        ErrorCode.UNSUPPORTED,
        what
            + " has media type '"
            + type
            + "'; this agent reads OCI and Docker schema 2 image manifests and indexes");
  }

  public boolean isIndex() {
    return manifests != null;
  }

  /** The index entry for {@code os/arch} (variant ignored), if any. */
  public Optional<Descriptor> platform(String osArch) {
    if (manifests == null) {
      return Optional.empty();
    }
    return manifests.stream()
        .filter(d -> d.platform() != null)
        .filter(d -> d.platform().equals(osArch) || d.platform().startsWith(osArch + "/"))
        .findFirst();
  }

  /** SHA-256 of {@code bytes}. */
  public static Sha256 sha256(byte[] bytes) {
    try {
      return Sha256.of(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Descriptor descriptor(JsonNode n, String what, String platform) {
    if (!n.isObject()) {
      throw invalid(what, "a descriptor is missing or not an object");
    }
    String d = n.path("digest").asText("");
    if (!d.startsWith("sha256:")) {
      throw invalid(what, "descriptor digest '" + d + "' is not sha256:<hex>");
    }
    long size = n.path("size").asLong(-1);
    if (size < 0) {
      throw invalid(what, "descriptor " + d + " has no valid size");
    }
    Sha256 digest;
    try {
      digest = Sha256.parse(d);
    } catch (AgentException e) {
      throw invalid(what, e.getMessage());
    }
    return new Descriptor(n.path("mediaType").asText(""), digest, size, platform);
  }

  private static AgentException invalid(String what, String why) {
    return new AgentException(ErrorCode.PAYLOAD_INVALID, what + " is not a valid manifest: " + why);
  }
}
