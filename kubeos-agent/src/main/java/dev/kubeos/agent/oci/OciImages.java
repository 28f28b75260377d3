package dev.kubeos.agent.oci;

import dev.kubeos.agent.port.ImageOpener;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.oci.BlobCache;
import dev.kubeos.oci.RegistryClient;
import dev.kubeos.oci.RegistryOptions;
import dev.kubeos.oci.model.Descriptor;
import dev.kubeos.oci.model.ImageReference;
import dev.kubeos.oci.model.ManifestDocument;
import dev.kubeos.oci.model.MediaTypes;
import dev.kubeos.oci.model.OsArtifact;
import dev.kubeos.oci.source.FetchOptions;
import java.util.Locale;

/**
 * OS payloads from registries: upstream-compatible images whose file system holds {@code /os.tar}
 * (upstream's {@code FROM scratch} + {@code COPY os.tar /}), for image types {@code docker} and
 * {@code containerd} alike, and KubeOS OS artifacts ({@link OsArtifact}: raw image + chunk index).
 * The manifest digest is checked against the expected one before any blob is fetched; layers stream
 * through the blob cache with their digests verified.
 */
public final class OciImages implements ImageOpener {
  private final RegistryOptions options;
  private final BlobCache cache;

  public OciImages(RegistryOptions options, BlobCache cache) {
    this.options = options;
    this.cache = cache;
  }

  @Override
  public ResolvedImage resolve(String reference, Sha256 expected, FetchOptions fetch) {
    ImageReference ref = ImageReference.parse(reference);
    if (ref.digest() != null && !ref.digest().equals(expected)) {
      throw new AgentException(
          ErrorCode.INVALID_REQUEST,
          "image "
              + reference
              + " pins digest "
              + ref.digest()
              + " but the expected checksum is "
              + expected
              + "; they must agree");
    }
    RegistryClient client = RegistryClient.forImage(ref, options, fetch);
    RegistryClient.FetchedManifest top = client.manifest(ref.repository(), ref.manifestReference());
    ManifestDocument manifest = top.document();
    if (manifest.isIndex()) {
      String platform = "linux/" + nodeArchitecture();
      Descriptor entry =
          manifest
              .platform(platform)
              .orElseThrow(
                  () ->
                      new AgentException(
                          ErrorCode.UNSUPPORTED,
                          "image " + ref + " has no " + platform + " manifest in its index"));
      if (!manifest.digest().equals(expected) && !entry.digest().equals(expected)) {
        throw mismatch(
            ref,
            expected,
            manifest.digest() + " (index; " + platform + ": " + entry.digest() + ")");
      }
      manifest = client.manifest(ref.repository(), entry.digest().toString()).document();
    } else if (!manifest.digest().equals(expected)) {
      throw mismatch(ref, expected, manifest.digest().toString());
    }
    if (OsArtifact.is(manifest)) {
      OsArtifact artifact = OsArtifact.of(manifest, "image " + ref + "@" + manifest.digest());
      return new ResolvedImage(
          null, new RegistryRawArtifact(client, ref, manifest.digest(), artifact, cache, options));
    }
    if (manifest.layers().isEmpty()) {
      throw new AgentException(ErrorCode.PAYLOAD_INVALID, "image " + ref + " has no layers");
    }
    for (Descriptor layer : manifest.layers()) {
      if (MediaTypes.OCI_LAYER_ZSTD.equals(layer.mediaType())) {
        throw new AgentException(
            ErrorCode.UNSUPPORTED,
            "image " + ref + " has zstd layers; this agent reads tar and tar+gzip layers");
      }
      if (!MediaTypes.TAR_LAYERS.contains(layer.mediaType())) {
        throw new AgentException(
            ErrorCode.PAYLOAD_INVALID,
            "image "
                + ref
                + " has a layer of media type '"
                + layer.mediaType()
                + "'; an OS image has tar or tar+gzip layers");
      }
    }
    return new ResolvedImage(
        new OsTarPayload(client, ref, manifest.layers(), expected, cache, options), null);
  }

  private static AgentException mismatch(ImageReference ref, Sha256 expected, String actual) {
    return new AgentException(
        ErrorCode.CHECKSUM_MISMATCH,
        "image "
            + ref
            + ": expected manifest digest "
            + expected
            + " but the registry serves "
            + actual
            + "; no layer was fetched and the slot was not touched (check the checksum or whether"
            + " the tag was moved)");
  }

  /** The node's architecture in OCI terms ({@code amd64}, {@code arm64}, ...). */
  static String nodeArchitecture() {
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    switch (arch) {
      case "x86_64":
      case "amd64":
        return "amd64";
      case "aarch64":
      case "arm64":
        return "arm64";
      default:
        return arch;
    }
  }
}
