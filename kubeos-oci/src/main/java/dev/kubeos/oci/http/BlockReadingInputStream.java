package dev.kubeos.oci.http;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * A filter whose subclass implements only {@link #read(byte[], int, int)}: single-byte reads and
 * skips go through it too, so whatever it counts, verifies or stores sees every byte. No mark.
 */
public abstract class BlockReadingInputStream extends FilterInputStream {
  protected BlockReadingInputStream(InputStream in) {
    super(in);
  }

  @Override
  public abstract int read(byte[] b, int off, int len) throws IOException;

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public long skip(long n) throws IOException {
    byte[] buf = new byte[(int) Math.min(Math.max(n, 0), 8192)];
    int r = read(buf, 0, buf.length);
    return Math.max(r, 0);
  }

  @Override
  public boolean markSupported() {
    return false;
  }
}
