package dev.kubeos.agent;

import dev.kubeos.agent.port.BlockDevice;
import dev.kubeos.agent.port.CommandRunner;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Runs a hook once, right before the first byte is written to a slot, so that everything that fails
 * earlier (bad URL, 404, payload too large) leaves the node's records untouched.
 */
final class FirstWriteGuard implements BlockDevice {
  private final BlockDevice delegate;
  private final Once once;

  FirstWriteGuard(BlockDevice delegate, Runnable hook) {
    this(delegate, new Once(hook));
  }

  private FirstWriteGuard(BlockDevice delegate, Once once) {
    this.delegate = delegate;
    this.once = once;
  }

  /** A command runner that runs the hook before the first command (mkfs.ext4 writes the slot). */
  static CommandRunner commands(CommandRunner delegate, Runnable hook) {
    Once once = new Once(hook);
    return (argv, timeout) -> {
      once.run();
      return delegate.run(argv, timeout);
    };
  }

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
    once.run();
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
    return new FirstWriteGuard(delegate.slice(offset, length), once);
  }

  @Override
  public void close() throws IOException {
    delegate.close();
  }

  private static final class Once {
    private final Runnable hook;
    private boolean done;

    Once(Runnable hook) {
      this.hook = hook;
    }

    /** Runs the hook once; concurrent writers wait until it finished (or failed: then retry). */
    synchronized void run() {
      if (!done) {
        hook.run();
        done = true;
      }
    }
  }
}
