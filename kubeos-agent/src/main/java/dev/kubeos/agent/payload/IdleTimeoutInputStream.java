package dev.kubeos.agent.payload;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Fails a blocked read with an IOException when no byte arrived for {@code timeout}: a watchdog
 * interrupts the reading thread (the JDK HttpClient's body stream has no read timeout of its own).
 */
final class IdleTimeoutInputStream extends FilterInputStream {
  private static final ScheduledExecutorService WATCHDOG =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "payload-read-watchdog");
            t.setDaemon(true);
            return t;
          });

  private final long timeoutNanos;
  private final String what;
  private volatile long lastProgress = System.nanoTime();
  private volatile Thread reader;
  private volatile boolean timedOut;
  private final ScheduledFuture<?> task;

  IdleTimeoutInputStream(InputStream in, Duration timeout, String what) {
    super(in);
    this.timeoutNanos = timeout.toNanos();
    this.what = what;
    long period = Math.max(50, timeout.toMillis() / 4);
    this.task = WATCHDOG.scheduleAtFixedRate(this::check, period, period, TimeUnit.MILLISECONDS);
  }

  private void check() {
    Thread t = reader;
    if (t != null && System.nanoTime() - lastProgress > timeoutNanos) {
      timedOut = true;
      t.interrupt();
    }
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    lastProgress = System.nanoTime();
    reader = Thread.currentThread();
    try {
      int n = super.read(b, off, len);
      lastProgress = System.nanoTime();
      return n;
    } catch (IOException e) {
      throw timedOut ? timeout(e) : e;
    } finally {
      reader = null;
      if (timedOut) {
        Thread.interrupted(); // clear our own interrupt
      }
    }
  }

  private IOException timeout(IOException cause) {
    InterruptedIOException e =
        new InterruptedIOException(
            "no data from " + what + " for " + timeoutNanos / 1_000_000_000 + " s");
    e.initCause(cause);
    return e;
  }

  @Override
  public void close() throws IOException {
    task.cancel(false);
    super.close();
  }
}
