package dev.kubeos.bench;

import com.sun.nio.file.ExtendedOpenOption;
import dev.kubeos.agent.port.BlockDevice;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** A file-backed slot for the benchmark; read-back through a second, O_DIRECT channel. */
final class BenchFileDevice implements BlockDevice {
  private final FileChannel ch;
  private final FileChannel direct;

  BenchFileDevice(Path file) throws IOException {
    ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
    direct = FileChannel.open(file, StandardOpenOption.READ, ExtendedOpenOption.DIRECT);
  }

  @Override
  public long size() throws IOException {
    return ch.size();
  }

  @Override
  public void read(long offset, ByteBuffer dst) throws IOException {
    read(ch, offset, dst);
  }

  private static void read(FileChannel c, long offset, ByteBuffer dst) throws IOException {
    while (dst.hasRemaining()) {
      int n = c.read(dst, offset);
      if (n < 0) {
        throw new EOFException();
      }
      offset += n;
    }
  }

  @Override
  public void readUncached(long offset, ByteBuffer dst) throws IOException {
    // the writer hands 4 MiB-aligned regions and a 4096-aligned buffer
    read(direct, offset, dst);
  }

  @Override
  public boolean uncachedReadsBypassCache() {
    return true;
  }

  @Override
  public void write(long offset, ByteBuffer src) throws IOException {
    while (src.hasRemaining()) {
      offset += ch.write(src, offset);
    }
  }

  @Override
  public void sync() throws IOException {
    ch.force(false);
  }

  @Override
  public BlockDevice slice(long offset, long length) {
    throw new UnsupportedOperationException("the benchmark writes the whole file");
  }

  @Override
  public void close() throws IOException {
    direct.close();
    ch.close();
  }
}
