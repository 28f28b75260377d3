package dev.kubeos.agent.stage;

import dev.kubeos.agent.port.BlockDevice;
import dev.kubeos.agent.port.CommandRunner;
import dev.kubeos.agent.port.ForwardingBlockDevice;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Runs a hook once, right before the first byte is written to a slot, so that everything that fails
 * earlier (bad URL, 404, payload too large) leaves the node's records untouched.
 */
final class FirstWriteGuard extends ForwardingBlockDevice {
  private final Once once;

  FirstWriteGuard(BlockDevice delegate, Runnable hook) {
    this(delegate, new Once(hook));
  }

  private FirstWriteGuard(BlockDevice delegate, Once once) {
    super(delegate);
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
  public void write(long offset, ByteBuffer src) throws IOException {
    once.run();
    super.write(offset, src);
  }

  @Override
  protected BlockDevice decorate(BlockDevice slice) {
    return new FirstWriteGuard(slice, once);
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
