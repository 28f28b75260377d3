package dev.kubeos.oci.http;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.oci.source.PayloadSource;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.OptionalLong;

/**
 * Reads a whole payload once, transparently re-opening it at the current offset after a broken
 * connection (or a premature end when the length is known) when the source supports resume, at most
 * {@code maxResumes} times. Failures surface as {@link AgentException} DOWNLOAD_FAILED.
 */
public final class ResumingInputStream extends BlockReadingInputStream {
  private final PayloadSource src;
  private final int maxResumes;
  private final Duration backoff;
  private final OptionalLong total;
  private InputStream in;
  private long position;
  private int resumes;
  private volatile boolean closed;

  /** Opens {@code src} at offset 0. */
  public ResumingInputStream(PayloadSource src, int maxResumes, Duration backoff)
      throws IOException {
    super(null); // reads the current connection's stream, which a resume replaces
    this.src = src;
    this.maxResumes = maxResumes;
    this.backoff = backoff;
    PayloadSource.Opened o = src.open(0);
    this.in = o.stream();
    this.total = o.totalLength();
  }

  /** The payload length announced by the source, when it announced one. */
  public OptionalLong totalLength() {
    return total;
  }

  /** Bytes delivered so far. */
  public long position() {
    return position;
  }

  /** How many times the payload was re-opened. */
  public int resumes() {
    return resumes;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (len == 0) {
      return 0;
    }
    while (true) {
      IOException failure;
      try {
        int n = in.read(b, off, len);
        if (n > 0) {
          position += n;
          return n;
        }
        if (n < 0 && (total.isEmpty() || position >= total.getAsLong())) {
          return -1;
        }
        failure =
            new IOException(
                "stream ended after " + position + " of " + total.getAsLong() + " bytes");
      } catch (IOException e) {
        failure = e;
      }
      if (closed) {
        throw new InterruptedIOException("payload stream closed");
      }
      resume(failure);
    }
  }

  private void resume(IOException failure) throws IOException {
    String got = position + (total.isPresent() ? " of " + total.getAsLong() : "") + " bytes";
    if (!src.supportsResume()) {
      throw new AgentException(
          ErrorCode.DOWNLOAD_FAILED,
          "download of "
              + src.describe()
              + " broke after "
              + got
              + " ("
              + failure.getMessage()
              + ") and the source does not support resume (no 'Accept-Ranges: bytes'); retry",
          failure);
    }
    IOException last = failure;
    while (resumes < maxResumes) {
      resumes++;
      closeQuietly(in);
      try {
        Thread.sleep(backoff.toMillis() * resumes);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while resuming " + src.describe());
      }
      try {
        PayloadSource.Opened o = src.open(position);
        in = o.stream();
        return;
      } catch (IOException e) {
        last = e;
      }
    }
    throw new AgentException(
        ErrorCode.DOWNLOAD_FAILED,
        "download of "
            + src.describe()
            + " failed after "
            + got
            + " and "
            + resumes
            + " resume attempts: "
            + last.getMessage(),
        last);
  }

  private static void closeQuietly(InputStream s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // the connection is broken already
    }
  }

  @Override
  public int available() {
    return 0; // not the filter's: its stream is null, the current connection's is below
  }

  @Override
  public void close() throws IOException {
    closed = true;
    in.close();
  }
}
