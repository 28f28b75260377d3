package dev.kubeos.agent.stage;

import dev.kubeos.formats.digest.Sha256;
import java.time.Duration;

/**
 * What staging a payload did.
 *
 * @param bytes payload bytes received (and, for raw images, written to the slot)
 * @param actual SHA-256 of the payload as received
 * @param readBackUncached whether the read-back verification bypassed the page cache (O_DIRECT);
 *     false also when no read-back was done (tar rootfs staging)
 * @param elapsed wall-clock time of the whole operation
 * @param resumes how many times the download was resumed after a broken connection
 * @param fetchedBytes bytes received from the payload's source (less than {@code bytes} for a delta
 *     payload, whose other chunks came from the node's own slots)
 */
public record StageResult(
    long bytes,
    Sha256 actual,
    boolean readBackUncached,
    Duration elapsed,
    int resumes,
    long fetchedBytes) {

  /**
   * The answer to a stage the slot already holds from the same request (nothing fetched, written or
   * read: {@code bytes} and {@code fetchedBytes} are 0).
   */
  public static StageResult alreadyStaged(Sha256 digest) {
    return new StageResult(0, digest, false, Duration.ZERO, 0, 0);
  }

  /** A result whose payload was fetched whole ({@code fetchedBytes == bytes}). */
  public StageResult(
      long bytes, Sha256 actual, boolean readBackUncached, Duration elapsed, int resumes) {
    this(bytes, actual, readBackUncached, elapsed, resumes, bytes);
  }
}
