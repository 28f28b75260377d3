package dev.kubeos.agent.stage;

import dev.kubeos.agent.port.BlockDevice;
import java.io.IOException;
import java.nio.ByteBuffer;

/** Reads back what was written, except one byte flipped at {@code badOffset}. */
final class CorruptingReadBack implements BlockDevice {
  private final BlockDevice d;
  private final long badOffset;

  CorruptingReadBack(BlockDevice d, long badOffset) {
    this.d = d;
    this.badOffset = badOffset;
  }

  @Override
  public long size() throws IOException {
    return d.size();
  }

  @Override
  public void read(long offset, ByteBuffer dst) throws IOException {
    d.read(offset, dst);
  }

  @Override
  public void readUncached(long offset, ByteBuffer dst) throws IOException {
    int start = dst.position();
    d.read(offset, dst);
    if (badOffset >= offset && badOffset < offset + (dst.position() - start)) {
      int i = start + (int) (badOffset - offset);
      dst.put(i, (byte) ~dst.get(i));
    }
  }

  @Override
  public void write(long offset, ByteBuffer src) throws IOException {
    d.write(offset, src);
  }

  @Override
  public void sync() throws IOException {
    d.sync();
  }

  @Override
  public BlockDevice slice(long offset, long length) throws IOException {
    return d.slice(offset, length);
  }

  @Override
  public void close() {}
}
