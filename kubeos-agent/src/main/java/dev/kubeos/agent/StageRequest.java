package dev.kubeos.agent;

import dev.kubeos.oci.source.FetchOptions;
import java.net.URI;
import java.util.List;
import java.util.Locale;

/**
 * What to stage into the inactive slot.
 *
 * @param url where the payload is (https, http with insecure, file); null for an image
 * @param sha256 expected digest of the payload bytes as fetched; for an image, its manifest digest
 * @param version OS version the payload holds
 * @param format how the payload is laid into the slot
 * @param fetch TLS and transport options ({@code insecure()}: plain http to the registry)
 * @param image container image reference for {@link Format#IMAGE}, else null
 */
public record StageRequest(
    URI url, String sha256, String version, Format format, FetchOptions fetch, String image) {

  /** A payload at {@code url}. */
  public StageRequest(URI url, String sha256, String version, Format format, FetchOptions fetch) {
    this(url, sha256, version, format, fetch, null);
  }

  /** The {@code /os.tar} of the container image {@code reference} with manifest digest sha256. */
  public static StageRequest image(
      String reference, String sha256, String version, FetchOptions fetch) {
    return new StageRequest(null, sha256, version, Format.IMAGE, fetch, reference);
  }

  /** Payload formats. */
  public enum Format {
    /** A root file-system image, written byte for byte into the partition. */
    RAW,
    /** A rootfs tarball, extracted into a new ext4 file system for the slot. */
    TAR,
    /**
     * A container image (upstream's image types docker/containerd) whose file system holds {@code
     * /os.tar}, a rootfs tarball laid into the slot like {@link #TAR}.
     */
    IMAGE,
    /**
     * The URL is a chunk index ({@code rootfs-V.img.chunkidx}) of a raw image: only the chunks the
     * node does not have are fetched (HTTP Range) from the image next to it; the digest is the
     * image's.
     */
    DELTA;

    /** The format of a payload at a URL: raw, tar or delta ({@link #IMAGE} comes with a ref). */
    public static Format parse(String text) {
      String name = text.trim().toUpperCase(Locale.ROOT);
      for (Format f : List.of(RAW, TAR, DELTA)) {
        if (f.name().equals(name)) {
          return f;
        }
      }
      throw new IllegalArgumentException(
          "unknown payload format '"
              + text
              + "' (raw, tar or delta; a container image is given with --image)");
    }
  }
}
