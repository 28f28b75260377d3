package dev.kubeos.oci.source;

import java.time.Duration;

/**
 * The rules that end a download which takes too long, enforced on every response body the HTTP
 * transport streams (payloads, delta ranges, registry blobs), across resumes of the same download.
 * A download that breaks either rule fails with {@code DOWNLOAD_TOO_SLOW} (retryable), which ends
 * the operation and so releases the agent's operation lock.
 *
 * <p>The defaults ({@link #DEFAULTS}) are generous enough for a slow real link and a TCG (software
 * emulated) guest: a 2 GiB image at the minimum rate takes about 9 hours, so the 2 h deadline is
 * the binding rule for very slow links, while a server that drips bytes is cut off after one
 * window.
 *
 * @param deadline the longest a whole download may take, from its first request
 * @param minBytesPerSecond the lowest average rate tolerated over each {@code rateWindow}; 0 turns
 *     the rule off
 * @param rateWindow the span over which the rate is averaged; a download is never judged before its
 *     first full window
 */
public record DownloadLimits(Duration deadline, long minBytesPerSecond, Duration rateWindow) {
  /** 2 h overall, at least 64 KiB/s averaged over 60 s. */
  public static final DownloadLimits DEFAULTS =
      new DownloadLimits(Duration.ofHours(2), 64 << 10, Duration.ofSeconds(60));

  public DownloadLimits {
    if (deadline == null || deadline.isNegative() || deadline.isZero()) {
      throw new IllegalArgumentException("download deadline must be positive: " + deadline);
    }
    if (minBytesPerSecond < 0) {
      throw new IllegalArgumentException("minimum download rate must not be negative");
    }
    if (rateWindow == null || rateWindow.isNegative() || rateWindow.isZero()) {
      throw new IllegalArgumentException("rate window must be positive: " + rateWindow);
    }
  }
}
