package dev.kubeos.agent.trust;

import dev.kubeos.agent.StageRequest;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.formats.trust.SignatureManifest;
import dev.kubeos.formats.trust.SignedPayload;
import dev.kubeos.formats.trust.SimpleSigning;
import dev.kubeos.oci.RegistryClient;
import dev.kubeos.oci.RegistryOptions;
import dev.kubeos.oci.model.ImageReference;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * cosign signatures of OCI payloads, read from the registry (tag-based discovery): the manifest at
 * tag {@code sha256-<hex>.sig} of the image's repository, where {@code <hex>} is the request's
 * manifest digest, and its simple-signing layers. The image itself is not touched: its manifest is
 * checked against the same digest later, before any of its blobs is fetched. A missing tag means
 * "not signed"; a missing layer blob gives an unusable entry saying so. Registry configuration
 * (hosts.toml mirrors, docker config credentials, --insecure-registry) is the image's own.
 */
public final class RegistrySignatureSource implements SignatureSource {
  private final RegistryOptions options;

  public RegistrySignatureSource(RegistryOptions options) {
    this.options = options;
  }

  @Override
  public List<SignedPayload> fetch(StageRequest request) {
    ImageReference ref = imageOf(request);
    RegistryClient client = RegistryClient.forImage(ref, options, request.fetch());
    return read(client, ref, Sha256.parse(request.sha256()));
  }

  @Override
  public String describe(StageRequest request) {
    if (request.image() == null) {
      return "(no registry signature for a URL payload)";
    }
    try {
      ImageReference ref = ImageReference.parse(request.image());
      return where(ref, Sha256.parse(request.sha256()));
    } catch (AgentException e) {
      return "(invalid image reference " + request.image() + ")";
    }
  }

  /** {@code registry/repository:sha256-<hex>.sig}. */
  public static String where(ImageReference ref, Sha256 digest) {
    return ref.registry() + "/" + ref.repository() + ":" + SignatureManifest.tag(digest);
  }

  /** The signatures published for {@code digest} in {@code ref}'s repository; empty if none. */
  public static List<SignedPayload> read(RegistryClient client, ImageReference ref, Sha256 digest) {
    String tag = SignatureManifest.tag(digest);
    Optional<RegistryClient.FetchedManifest> m = client.manifestIfPresent(ref.repository(), tag);
    if (m.isEmpty()) {
      return List.of();
    }
    return SignatureManifest.read(
        m.get().bytes(),
        d -> client.smallBlob(ref.repository(), Sha256.parse(d), SignatureManifest.MAX_BYTES),
        where(ref, digest));
  }

  /**
   * Publishes {@code signatures} of {@code digest} (plus the usable ones already published, as
   * cosign does) at {@code sha256-<hex>.sig}; returns the signature manifest's digest.
   */
  public static Sha256 publish(
      RegistryClient client, ImageReference ref, Sha256 digest, List<SignedPayload> signatures) {
    List<SignedPayload> all = new java.util.ArrayList<>();
    for (SignedPayload p : read(client, ref, digest)) {
      if (p.problem() == null) {
        all.add(p);
      }
    }
    all.addAll(signatures);
    SignatureManifest.Built built = SignatureManifest.build(all);
    for (Map.Entry<String, byte[]> b : built.blobs().entrySet()) {
      // the media type only labels the returned descriptor; the manifest carries the real ones
      client.pushBlob(ref.repository(), b.getValue(), SimpleSigning.MEDIA_TYPE);
    }
    return client.pushManifest(
        ref.repository(),
        SignatureManifest.tag(digest),
        built.manifest(),
        SignatureManifest.MANIFEST_MEDIA_TYPE);
  }

  private static ImageReference imageOf(StageRequest request) {
    if (request.image() == null) {
      throw new AgentException(
          ErrorCode.UNSUPPORTED, "registry signatures exist for image payloads only");
    }
    return ImageReference.parse(request.image());
  }
}
