package dev.kubeos.formats.signing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.formats.trust.SignatureManifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Writes a cosign signature image as an OCI image layout directory ({@code oci-layout}, {@code
 * index.json}, {@code blobs/sha256/...}) tagged {@code sha256-<hex>.sig}, so any OCI tool can push
 * it next to the signed image, e.g. {@code skopeo copy oci:DIR:sha256-<hex>.sig
 * docker://REGISTRY/REPO:sha256-<hex>.sig}.
 */
public final class OciLayouts {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private OciLayouts() {}

  /**
   * Writes {@code built} into {@code dir} (created; existing blobs are kept) and returns the tag.
   */
  public static String write(Path dir, Sha256 signed, SignatureManifest.Built built)
      throws IOException {
    Path blobs = dir.resolve("blobs/sha256");
    Files.createDirectories(blobs);
    for (Map.Entry<String, byte[]> b : built.blobs().entrySet()) {
      Files.write(blobs.resolve(b.getKey().substring("sha256:".length())), b.getValue());
    }
    String manifestDigest = SignatureManifest.digest(built.manifest());
    Files.write(blobs.resolve(manifestDigest.substring("sha256:".length())), built.manifest());
    String tag = SignatureManifest.tag(signed);
    ObjectNode index = MAPPER.createObjectNode();
    index.put("schemaVersion", 2);
    index.put("mediaType", "application/vnd.oci.image.index.v1+json");
    ObjectNode m = index.putArray("manifests").addObject();
    m.put("mediaType", SignatureManifest.MANIFEST_MEDIA_TYPE);
    m.put("digest", manifestDigest);
    m.put("size", built.manifest().length);
    m.putObject("annotations").put("org.opencontainers.image.ref.name", tag);
    Files.write(dir.resolve("index.json"), MAPPER.writeValueAsBytes(index));
    Files.writeString(dir.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
    return tag;
  }
}
