package dev.kubeos.agent.stage;

import dev.kubeos.agent.port.BlockDevice;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Test double of {@link BlockDevice}: a window of a file through a FileChannel, counting writes and
 * syncs. (Replaced by the production FileBlockDevice at merge time.)
 */
final class TestFileDevice implements BlockDevice {
  private final FileChannel ch;
  private final long base;
  private final long length;
  private final boolean owner;
  final AtomicLong bytesWritten;
  final AtomicLong syncs;

  private TestFileDevice(
      FileChannel ch, long base, long length, boolean owner, AtomicLong w, AtomicLong s) {
    this.ch = ch;
    this.base = base;
    this.length = length;
    this.owner = owner;
    this.bytesWritten = w;
    this.syncs = s;
  }

  static TestFileDevice open(Path file) throws IOException {
    FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
    return new TestFileDevice(ch, 0, ch.size(), true, new AtomicLong(), new AtomicLong());
  }

  @Override
  public long size() {
    return length;
  }

  private void check(long offset, int len) throws IOException {
    if (offset < 0 || offset + len > length) {
      throw new IOException(
          "access " + offset + "+" + len + " outside device of " + length + " bytes");
    }
  }

  @Override
  public void read(long offset, ByteBuffer dst) throws IOException {
    check(offset, dst.remaining());
    long pos = base + offset;
    while (dst.hasRemaining()) {
      int n = ch.read(dst, pos);
      if (n < 0) {
        throw new EOFException("EOF at " + pos);
      }
      pos += n;
    }
  }

  @Override
  public void write(long offset, ByteBuffer src) throws IOException {
    check(offset, src.remaining());
    long pos = base + offset;
    while (src.hasRemaining()) {
      int n = ch.write(src, pos);
      pos += n;
      bytesWritten.addAndGet(n);
    }
  }

  @Override
  public void sync() throws IOException {
    syncs.incrementAndGet();
    ch.force(false);
  }

  @Override
  public BlockDevice slice(long offset, long len) throws IOException {
    check(offset, 0);
    if (offset + len > length) {
      throw new IOException("slice beyond device");
    }
    return new TestFileDevice(ch, base + offset, len, false, bytesWritten, syncs);
  }

  @Override
  public void close() throws IOException {
    if (owner) {
      ch.close();
    }
  }
}
