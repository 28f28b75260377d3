package dev.kubeos.agent.stage;

import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.oci.source.FetchOptions;
import dev.kubeos.oci.source.PayloadSource;
import java.net.URI;

/**
 * What a stage request names, resolved once: which kind of payload it is, with its source opened
 * (no byte read yet) and the digest it must match. Each kind has its {@link PayloadWriter}.
 */
public sealed interface ResolvedPayload {

  /** Where the payload comes from, for messages (never contains credentials). */
  String describe();

  /** A raw root file-system image at a URL, written byte for byte into the slot. */
  record RawImage(PayloadSource source, Sha256 expected) implements ResolvedPayload {
    @Override
    public String describe() {
      return source.describe();
    }
  }

  /** A rootfs tarball at a URL, laid into a new ext4 file system in the slot. */
  record RootfsTar(PayloadSource source, Sha256 expected) implements ResolvedPayload {
    @Override
    public String describe() {
      return source.describe();
    }
  }

  /**
   * The chunk index of a raw image at {@code url}: the image is next to it, and only the chunks the
   * node lacks are fetched from it.
   *
   * @param expected the image's digest, which the index must name
   */
  record ChunkIndexed(PayloadSource index, URI url, FetchOptions fetch, Sha256 expected)
      implements ResolvedPayload {
    @Override
    public String describe() {
      return index.describe();
    }
  }

  /**
   * A container image in a registry: an upstream-style image holding {@code /os.tar}, or a KubeOS
   * OS artifact (raw image, optionally with a chunk index). Which one only its manifest tells, and
   * the manifest is fetched when the slot is written, after the signature check.
   *
   * @param expected the manifest digest
   */
  record RegistryImage(String reference, Sha256 expected, FetchOptions fetch)
      implements ResolvedPayload {
    @Override
    public String describe() {
      return "image " + reference;
    }
  }
}
