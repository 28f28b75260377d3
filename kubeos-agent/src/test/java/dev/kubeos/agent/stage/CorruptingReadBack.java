package dev.kubeos.agent.stage;

import dev.kubeos.agent.port.BlockDevice;
import dev.kubeos.agent.port.ForwardingBlockDevice;
import java.io.IOException;
import java.nio.ByteBuffer;

/** Reads back what was written, except one byte flipped at {@code badOffset}. */
final class CorruptingReadBack extends ForwardingBlockDevice {
  private final long badOffset;

  CorruptingReadBack(BlockDevice d, long badOffset) {
    super(d);
    this.badOffset = badOffset;
  }

  @Override
  public void readUncached(long offset, ByteBuffer dst) throws IOException {
    int start = dst.position();
    delegate.read(offset, dst);
    if (badOffset >= offset && badOffset < offset + (dst.position() - start)) {
      int i = start + (int) (badOffset - offset);
      dst.put(i, (byte) ~dst.get(i));
    }
  }

  @Override
  protected BlockDevice decorate(BlockDevice slice) {
    return slice;
  }

  @Override
  public void close() {}
}
