package dev.kubeos.agent.stage;

import dev.kubeos.agent.port.BlockDevice;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.oci.http.ResumingInputStream;
import dev.kubeos.oci.source.PayloadSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;

/**
 * Streams a raw disk image into a slot in one pass: a reader thread fills a ring of reusable direct
 * buffers from the (resuming) download; a hasher and a writer consume each buffer concurrently; the
 * writer syncs every {@link Tuning#syncEveryBytes()} and hands the synced region to a verifier that
 * reads it back with {@link BlockDevice#readUncached} and compares it byte-for-byte with the buffer
 * that was hashed. The digest is checked at the end.
 */
public final class RawImageWriter {

  /**
   * Pipeline sizes.
   *
   * @param chunkBytes size of one ring buffer (a multiple of 4096)
   * @param ringChunks number of ring buffers (memory = chunkBytes * ringChunks); must exceed the
   *     chunks held between two syncs
   * @param syncEveryBytes written bytes between two syncs (and read-back batches)
   * @param maxResumes resume attempts after broken connections
   * @param resumeBackoff pause before the first resume (grows linearly)
   */
  public record Tuning(
      int chunkBytes, int ringChunks, long syncEveryBytes, int maxResumes, Duration resumeBackoff) {
    public Tuning {
      if (chunkBytes <= 0 || chunkBytes % 4096 != 0) {
        throw new IllegalArgumentException("chunkBytes must be a positive multiple of 4096");
      }
      long held = (syncEveryBytes + chunkBytes - 1) / chunkBytes;
      if (ringChunks < held + 2) {
        throw new IllegalArgumentException(
            "ringChunks must be at least syncEveryBytes/chunkBytes + 2 = " + (held + 2));
      }
    }

    /** 4 MiB buffers, 16 of them (64 MiB), sync and read back every 32 MiB, 5 resumes. */
    public static Tuning defaults() {
      return new Tuning(4 << 20, 16, 32L << 20, 5, Duration.ofMillis(200));
    }
  }

  private final Tuning tuning;

  public RawImageWriter() {
    this(Tuning.defaults());
  }

  public RawImageWriter(Tuning tuning) {
    this.tuning = tuning;
  }

  /**
   * Refuses an image of {@code size} bytes (as announced, before anything is written) that the
   * target slot of {@code slotSize} bytes cannot hold.
   *
   * @throws AgentException PAYLOAD_TOO_LARGE
   */
  public static void requireFits(String what, long size, long slotSize) {
    if (size > slotSize) {
      throw new AgentException(
          ErrorCode.PAYLOAD_TOO_LARGE,
          what
              + " is "
              + size
              + " bytes but the target slot holds "
              + slotSize
              + " bytes; nothing was written. Use a smaller image or a larger slot");
    }
  }

  /**
   * Downloads {@code src}, writes it to the start of {@code slot}, syncs and verifies it.
   *
   * @throws AgentException PAYLOAD_TOO_LARGE (nothing written when the length was announced),
   *     DOWNLOAD_FAILED, CHECKSUM_MISMATCH, VERIFY_FAILED, PAYLOAD_INVALID (empty payload),
   *     IO_ERROR
   */
  public StageResult write(
      PayloadSource src, Sha256 expected, BlockDevice slot, ProgressListener progress)
      throws IOException {
    try {
      return writeOnce(src, expected, slot, progress);
    } finally {
      releaseRing(); // the pipeline and its ring were local to writeOnce: unreachable now
    }
  }

  private StageResult writeOnce(
      PayloadSource src, Sha256 expected, BlockDevice slot, ProgressListener progress)
      throws IOException {
    long start = System.nanoTime();
    long slotSize = slot.size();
    ResumingInputStream in =
        new ResumingInputStream(src, tuning.maxResumes(), tuning.resumeBackoff());
    try {
      long total = in.totalLength().orElse(-1);
      requireFits(src.describe(), total, slotSize);
      MessageDigest md = sha256();
      RawImagePipeline pipe =
          new RawImagePipeline(tuning, in, total, md, slot, slotSize, src.describe(), progress);
      long bytes = pipe.run();
      if (bytes == 0) {
        throw new AgentException(
            ErrorCode.PAYLOAD_INVALID, src.describe() + " delivered an empty payload");
      }
      Sha256 actual = Sha256.of(md.digest());
      if (!actual.equals(expected)) {
        throw checksumMismatch(
            src,
            expected,
            bytes,
            actual,
            "the slot content is not usable. Check the digest in the request or the payload on"
                + " the server");
      }
      progress.progress(bytes, total);
      return new StageResult(
          bytes,
          actual,
          slot.uncachedReadsBypassCache(),
          Duration.ofNanos(System.nanoTime() - start),
          in.resumes());
    } catch (UncheckedIOException e) {
      throw e.getCause();
    } finally {
      in.close();
    }
  }

  /**
   * Frees the ring's direct buffers now. The native memory of a direct buffer goes back only when a
   * GC finds the buffer unreachable; the agent daemon's small heap sees few collections once a
   * stage is over, so without this it would keep the ring (64 MiB by default) resident until some
   * later GC. One serial collection of the agent's heap takes milliseconds.
   */
  private static void releaseRing() {
    System.gc();
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new AgentException(ErrorCode.INTERNAL, "SHA-256 is not available in this JVM", e);
    }
  }

  /** CHECKSUM_MISMATCH: the {@code bytes} received from {@code src} hash to {@code actual}. */
  static AgentException checksumMismatch(
      PayloadSource src, Sha256 expected, long bytes, Sha256 actual, String consequence) {
    return new AgentException(
        ErrorCode.CHECKSUM_MISMATCH,
        src.describe()
            + ": expected "
            + expected
            + " but the "
            + bytes
            + " bytes received hash to "
            + actual
            + "; "
            + consequence);
  }
}
