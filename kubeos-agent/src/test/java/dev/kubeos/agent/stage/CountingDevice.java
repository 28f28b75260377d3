package dev.kubeos.agent.stage;

import dev.kubeos.agent.port.BlockDevice;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;

/** Counts the bytes written and the syncs that reach a real device (and its slices). */
final class CountingDevice implements BlockDevice {
  final AtomicLong bytesWritten;
  final AtomicLong syncs;
  private final BlockDevice d;

  CountingDevice(BlockDevice d) {
    this(d, new AtomicLong(), new AtomicLong());
  }

  private CountingDevice(BlockDevice d, AtomicLong written, AtomicLong syncs) {
    this.d = d;
    this.bytesWritten = written;
    this.syncs = syncs;
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
  public void write(long offset, ByteBuffer src) throws IOException {
    int n = src.remaining();
    d.write(offset, src);
    bytesWritten.addAndGet(n);
  }

  @Override
  public void sync() throws IOException {
    d.sync();
    syncs.incrementAndGet();
  }

  @Override
  public void readUncached(long offset, ByteBuffer dst) throws IOException {
    d.readUncached(offset, dst);
  }

  @Override
  public boolean uncachedReadsBypassCache() {
    return d.uncachedReadsBypassCache();
  }

  @Override
  public BlockDevice slice(long offset, long length) throws IOException {
    return new CountingDevice(d.slice(offset, length), bytesWritten, syncs);
  }

  @Override
  public void close() throws IOException {
    d.close();
  }
}
