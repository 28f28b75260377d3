package dev.kubeos.agent;

import dev.kubeos.agent.payload.FetchOptions;
import java.net.URI;
import java.util.Locale;

/**
 * What to stage into the inactive slot.
 *
 * @param url where the payload is (https, http with insecure, file)
 * @param sha256 expected digest of the payload bytes as fetched
 * @param version OS version the payload holds
 * @param format how the payload is laid into the slot
 * @param fetch TLS and transport options
 */
public record StageRequest(
    URI url, String sha256, String version, Format format, FetchOptions fetch) {

  /** Payload formats. */
  public enum Format {
    /** A root file-system image, written byte for byte into the partition. */
    RAW,
    /** A rootfs tarball, extracted into a new ext4 file system for the slot. */
    TAR,
    /**
     * The URL is a chunk index ({@code rootfs-V.img.chunkidx}) of a raw image: only the chunks the
     * node does not have are fetched (HTTP Range) from the image next to it; the digest is the
     * image's.
     */
    DELTA;

    public static Format parse(String text) {
      try {
        return valueOf(text.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "unknown payload format '" + text + "' (raw, tar or delta)");
      }
    }
  }
}
