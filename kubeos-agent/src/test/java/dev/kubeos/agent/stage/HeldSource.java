package dev.kubeos.agent.stage;

import dev.kubeos.oci.source.PayloadSource;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.OptionalLong;
import java.util.concurrent.CountDownLatch;

/** Serves {@code bytes}, holding before offset {@code holdAt} until released. */
final class HeldSource implements PayloadSource {
  final CountDownLatch held = new CountDownLatch(1);
  final CountDownLatch release = new CountDownLatch(1);
  private final byte[] bytes;
  private final int holdAt;

  HeldSource(byte[] bytes, int holdAt) {
    this.bytes = bytes;
    this.holdAt = holdAt;
  }

  @Override
  public String describe() {
    return "held test source";
  }

  @Override
  public boolean supportsResume() {
    return false;
  }

  @Override
  public Opened open(long offset) {
    InputStream in =
        new InputStream() {
          private int pos = (int) offset;

          @Override
          public int read() throws IOException {
            byte[] b = new byte[1];
            return read(b, 0, 1) < 0 ? -1 : b[0] & 0xff;
          }

          @Override
          public int read(byte[] b, int off, int len) throws IOException {
            if (pos == holdAt) {
              held.countDown();
              try {
                release.await();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while held");
              }
            }
            if (pos >= bytes.length) {
              return -1;
            }
            int end = pos < holdAt ? holdAt : bytes.length;
            int n = Math.min(len, end - pos);
            System.arraycopy(bytes, pos, b, off, n);
            pos += n;
            return n;
          }
        };
    return new Opened(in, OptionalLong.of(bytes.length));
  }
}
