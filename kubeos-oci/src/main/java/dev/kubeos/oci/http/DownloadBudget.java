package dev.kubeos.oci.http;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.oci.source.DownloadLimits;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.function.LongSupplier;

/**
 * Enforces {@link DownloadLimits} on one download: the deadline runs from its first request across
 * every resume or range request, the rate is averaged over consecutive windows while a response
 * body is being read. Breaking either throws {@link ErrorCode#DOWNLOAD_TOO_SLOW} from the read (or
 * the request) in progress; the caller closes the connection as for any failure.
 */
public final class DownloadBudget {
  private final DownloadLimits limits;
  private final String what;
  private final LongSupplier nanoTime;
  private long start = Long.MIN_VALUE;
  private long windowStart;
  private long windowBytes;
  private long total;

  /**
   * @param what the download, as named in the error
   * @param nanoTime the monotonic clock ({@code System::nanoTime} outside tests)
   */
  public DownloadBudget(DownloadLimits limits, String what, LongSupplier nanoTime) {
    this.limits = limits;
    this.what = what;
    this.nanoTime = nanoTime;
  }

  public DownloadBudget(DownloadLimits limits, String what) {
    this(limits, what, System::nanoTime);
  }

  /** Called before each request: starts the deadline, or fails when it has passed. */
  public synchronized void request() {
    long now = nanoTime.getAsLong();
    if (start == Long.MIN_VALUE) {
      start = now;
    }
    checkDeadline(now);
  }

  /** {@code body} counted against the limits; a new body starts a new rate window. */
  public InputStream guard(InputStream body) {
    synchronized (this) {
      if (start == Long.MIN_VALUE) {
        start = nanoTime.getAsLong();
      }
      windowStart = nanoTime.getAsLong();
      windowBytes = 0;
    }
    return new FilterInputStream(body) {
      @Override
      public int read() throws IOException {
        int b = super.read();
        count(b < 0 ? 0 : 1);
        return b;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        count(Math.max(n, 0));
        return n;
      }

      @Override
      public long skip(long n) throws IOException {
        long s = super.skip(n);
        count(s);
        return s;
      }
    };
  }

  private synchronized void count(long n) {
    long now = nanoTime.getAsLong();
    total += n;
    windowBytes += n;
    checkDeadline(now);
    long elapsed = now - windowStart;
    if (limits.minBytesPerSecond() > 0 && elapsed >= limits.rateWindow().toNanos()) {
      // the average over the window that just ended (longer than the window when reads are rare)
      if (windowBytes * 1_000_000_000.0 / elapsed < limits.minBytesPerSecond()) {
        throw new AgentException(
            ErrorCode.DOWNLOAD_TOO_SLOW,
            "download of "
                + what
                + " brought "
                + windowBytes
                + " bytes in "
                + seconds(elapsed)
                + ", under the minimum rate of "
                + limits.minBytesPerSecond()
                + " bytes/s averaged over "
                + seconds(limits.rateWindow().toNanos())
                + "; stopped after "
                + total
                + " bytes (retry when the server or the link is faster)");
      }
      windowStart = now;
      windowBytes = 0;
    }
  }

  private void checkDeadline(long now) {
    if (now - start > limits.deadline().toNanos()) {
      throw new AgentException(
          ErrorCode.DOWNLOAD_TOO_SLOW,
          "download of "
              + what
              + " passed its overall deadline of "
              + seconds(limits.deadline().toNanos())
              + " after "
              + total
              + " bytes (retry when the server or the link is faster)");
    }
  }

  private static String seconds(long nanos) {
    return String.format(java.util.Locale.ROOT, "%.1f s", nanos / 1e9);
  }
}
