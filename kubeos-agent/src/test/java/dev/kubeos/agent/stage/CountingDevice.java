package dev.kubeos.agent.stage;

import dev.kubeos.agent.port.BlockDevice;
import dev.kubeos.agent.port.ForwardingBlockDevice;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;

/** Counts the bytes written and the syncs that reach a real device (and its slices). */
final class CountingDevice extends ForwardingBlockDevice {
  final AtomicLong bytesWritten;
  final AtomicLong syncs;

  CountingDevice(BlockDevice d) {
    this(d, new AtomicLong(), new AtomicLong());
  }

  private CountingDevice(BlockDevice d, AtomicLong written, AtomicLong syncs) {
    super(d);
    this.bytesWritten = written;
    this.syncs = syncs;
  }

  @Override
  public void write(long offset, ByteBuffer src) throws IOException {
    int n = src.remaining();
    super.write(offset, src);
    bytesWritten.addAndGet(n);
  }

  @Override
  public void sync() throws IOException {
    super.sync();
    syncs.incrementAndGet();
  }

  @Override
  protected BlockDevice decorate(BlockDevice slice) {
    return new CountingDevice(slice, bytesWritten, syncs);
  }
}
