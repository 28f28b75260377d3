package dev.kubeos.agent.port;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A block device that forwards every call to another one; decorators (guards, counters, fault
 * injection) override what they change. Slices are decorated the same way through {@link
 * #decorate}.
 */
public abstract class ForwardingBlockDevice implements BlockDevice {
  protected final BlockDevice delegate;

  protected ForwardingBlockDevice(BlockDevice delegate) {
    this.delegate = delegate;
  }

  /** Wraps a slice of the delegate in the same decoration. */
  protected abstract BlockDevice decorate(BlockDevice slice);

  @Override
  public long size() throws IOException {
    return delegate.size();
  }

  @Override
  public void read(long offset, ByteBuffer dst) throws IOException {
    delegate.read(offset, dst);
  }

  @Override
  public void write(long offset, ByteBuffer src) throws IOException {
    delegate.write(offset, src);
  }

  @Override
  public void sync() throws IOException {
    delegate.sync();
  }

  @Override
  public void readUncached(long offset, ByteBuffer dst) throws IOException {
    delegate.readUncached(offset, dst);
  }

  @Override
  public boolean uncachedReadsBypassCache() {
    return delegate.uncachedReadsBypassCache();
  }

  @Override
  public BlockDevice slice(long offset, long length) throws IOException {
    return decorate(delegate.slice(offset, length));
  }

  @Override
  public void close() throws IOException {
    delegate.close();
  }
}
