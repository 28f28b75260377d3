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

  /** A result whose payload was fetched whole ({@code fetchedBytes == bytes}). */
  public StageResult(
      long bytes, Sha256 actual, boolean readBackUncached, Duration elapsed, int resumes) {
    this(bytes, actual, readBackUncached, elapsed, resumes, bytes);
  }
}
