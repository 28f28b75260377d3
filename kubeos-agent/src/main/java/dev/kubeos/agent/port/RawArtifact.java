package dev.kubeos.agent.port;

import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.oci.source.PayloadSource;
import dev.kubeos.oci.source.RangeSource;
import java.util.Optional;

/**
 * A raw root file-system image published in a registry (the KubeOS OS artifact): the image blob as
 * a stream and by byte ranges, and its chunk index when one is published. The artifact's manifest
 * digest was checked when it was resolved; the blob digests come from that manifest.
 */
public interface RawArtifact {

  /** Reference and manifest digest, for messages. */
  String describe();

  /** SHA-256 of the raw image (its layer digest): what the assembled slot must hash to. */
  Sha256 imageSha256();

  /** Size of the raw image in bytes. */
  long imageSize();

  /**
   * The whole image as one stream (through the node's blob cache where it fits), digest checked by
   * the caller while writing.
   */
  PayloadSource image();

  /** The image by byte ranges (delta staging). */
  RangeSource ranges();

  /** The chunk index blob (through the blob cache), when the artifact has one. */
  Optional<PayloadSource> chunkIndex();

  /** Bytes received from the registry so far by {@link #image()} and {@link #chunkIndex()}. */
  long downloaded();
}
