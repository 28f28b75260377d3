package dev.kubeos.agent.disk;

import dev.kubeos.agent.port.BlockDevice;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A bounded window of another {@link BlockDevice}: offsets are relative to the window and every
 * access outside it throws before touching the parent. Closing the window leaves the parent open.
 */
final class SlicedBlockDevice implements BlockDevice {
  private final BlockDevice parent;
  private final long base;
  private final long length;

  private SlicedBlockDevice(BlockDevice parent, long base, long length) {
    this.parent = parent;
    this.base = base;
    this.length = length;
  }

  /** Creates a view of {@code length} bytes at {@code offset} of {@code parent}. */
  static BlockDevice of(BlockDevice parent, long offset, long length) throws IOException {
    BlockRanges.check("slice", offset, length, parent.size());
    return new SlicedBlockDevice(parent, offset, length);
  }

  @Override
  public long size() {
    return length;
  }

  @Override
  public void read(long offset, ByteBuffer dst) throws IOException {
    BlockRanges.check("read", offset, dst.remaining(), length);
    parent.read(base + offset, dst);
  }

  @Override
  public void write(long offset, ByteBuffer src) throws IOException {
    BlockRanges.check("write", offset, src.remaining(), length);
    parent.write(base + offset, src);
  }

  @Override
  public void readUncached(long offset, ByteBuffer dst) throws IOException {
    BlockRanges.check("read", offset, dst.remaining(), length);
    parent.readUncached(base + offset, dst);
  }

  @Override
  public boolean uncachedReadsBypassCache() {
    return parent.uncachedReadsBypassCache();
  }

  @Override
  public void sync() throws IOException {
    parent.sync();
  }

  @Override
  public BlockDevice slice(long offset, long length) throws IOException {
    BlockRanges.check("slice", offset, length, this.length);
    return new SlicedBlockDevice(parent, base + offset, length);
  }

  @Override
  public void close() {
    // a view: the parent owns the resources
  }

  @Override
  public String toString() {
    return parent + "[" + base + "+" + length + "]";
  }
}
