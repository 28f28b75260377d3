package dev.kubeos.oci.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The KubeOS OS artifact: an OCI image manifest whose config has media type {@link
 * MediaTypes#KUBEOS_OS_CONFIG} (and {@code artifactType} {@link MediaTypes#KUBEOS_OS_ARTIFACT}) and
 * whose layers are the uncompressed raw root file-system image ({@link
 * MediaTypes#KUBEOS_ROOTFS_RAW}, exactly one) and optionally its chunk index ({@link
 * MediaTypes#KUBEOS_ROOTFS_CHUNKIDX}). The manifest digest binds both blobs, so a signature over it
 * covers the image and the index.
 *
 * <p>Pure: builds the config and manifest the image builder pushes and reads a fetched manifest.
 *
 * @param image the raw image layer
 * @param index the chunk index layer, or null (only full staging possible)
 */
public record OsArtifact(Descriptor image, Descriptor index) {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Whether {@code manifest} is a KubeOS OS artifact (by its config media type). */
  public static boolean is(ManifestDocument manifest) {
    return !manifest.isIndex()
        && manifest.config() != null
        && MediaTypes.KUBEOS_OS_CONFIG.equals(manifest.config().mediaType());
  }

  /**
   * Reads the layers of an artifact manifest.
   *
   * @throws AgentException PAYLOAD_INVALID when there is not exactly one raw image layer or more
   *     than one index layer
   */
  public static OsArtifact of(ManifestDocument manifest, String what) {
    Descriptor image = null;
    Descriptor index = null;
    for (Descriptor l : manifest.layers()) {
      if (MediaTypes.KUBEOS_ROOTFS_RAW.equals(l.mediaType())) {
        if (image != null) {
          throw invalid(what, "it has two raw image layers");
        }
        image = l;
      } else if (MediaTypes.KUBEOS_ROOTFS_CHUNKIDX.equals(l.mediaType())) {
        if (index != null) {
          throw invalid(what, "it has two chunk index layers");
        }
        index = l;
      }
    }
    if (image == null) {
      throw invalid(what, "it has no layer of media type " + MediaTypes.KUBEOS_ROOTFS_RAW);
    }
    return new OsArtifact(image, index);
  }

  public Optional<Descriptor> chunkIndex() {
    return Optional.ofNullable(index);
  }

  /** The config blob: version and the raw image's name, digest and size (informative). */
  public static byte[] config(String version, String imageName, Descriptor image) {
    ObjectNode c = JSON.createObjectNode();
    c.put("version", version);
    c.putObject("image")
        .put("name", imageName)
        .put("digest", image.digest().toString())
        .put("size", image.size());
    return c.toString().getBytes(StandardCharsets.UTF_8);
  }

  /**
   * The manifest (OCI image manifest with {@code artifactType}); title annotations name the files.
   */
  public static byte[] manifest(
      Descriptor config,
      Descriptor image,
      String imageName,
      Descriptor index,
      String indexName,
      String version) {
    ObjectNode m = JSON.createObjectNode();
    m.put("schemaVersion", 2);
    m.put("mediaType", MediaTypes.OCI_MANIFEST);
    m.put("artifactType", MediaTypes.KUBEOS_OS_ARTIFACT);
    m.set("config", descriptor(config, null));
    ArrayNode layers = m.putArray("layers");
    layers.add(descriptor(image, imageName));
    if (index != null) {
      layers.add(descriptor(index, indexName));
    }
    m.putObject("annotations").put("org.opencontainers.image.version", version);
    return m.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static ObjectNode descriptor(Descriptor d, String title) {
    ObjectNode n = JSON.createObjectNode();
    n.put("mediaType", d.mediaType()).put("digest", d.digest().toString()).put("size", d.size());
    if (title != null) {
      n.putObject("annotations").put("org.opencontainers.image.title", title);
    }
    return n;
  }

  private static AgentException invalid(String what, String why) {
    return new AgentException(
        ErrorCode.PAYLOAD_INVALID,
        what
            + " is not a usable KubeOS OS artifact: "
            + why
            + "; push it with 'kubeos image build --push' (docs/delta.md)");
  }
}
