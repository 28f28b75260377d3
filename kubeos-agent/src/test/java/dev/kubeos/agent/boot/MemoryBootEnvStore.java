package dev.kubeos.agent.boot;

import dev.kubeos.agent.port.BootEnvStore;
import java.io.IOException;
import java.util.Arrays;

/**
 * In-memory {@link BootEnvStore} with fault injection, for tests and simulations. Reads and writes
 * copy the arrays, so callers never share state with the store.
 */
public final class MemoryBootEnvStore implements BootEnvStore {

  private final byte[][] copies = new byte[2][];
  private byte[] bootRecord;
  private int tearAt = -1;
  private boolean failNext;
  private int writes;

  @Override
  public synchronized byte[] readCopy(int index) {
    checkIndex(index);
    return clone(copies[index]);
  }

  @Override
  public synchronized void writeCopy(int index, byte[] block) throws IOException {
    checkIndex(index);
    if (failNext) {
      failNext = false;
      throw new IOException("injected write failure");
    }
    if (tearAt >= 0) {
      int n = Math.min(tearAt, block.length);
      tearAt = -1;
      byte[] old = copies[index];
      byte[] torn = old == null ? new byte[n] : Arrays.copyOf(old, Math.max(old.length, n));
      System.arraycopy(block, 0, torn, 0, n);
      copies[index] = torn;
      throw new IOException("injected torn write");
    }
    copies[index] = block.clone();
    writes++;
  }

  @Override
  public synchronized byte[] readBootRecord() {
    return clone(bootRecord);
  }

  @Override
  public synchronized void writeBootRecord(byte[] block) {
    bootRecord = clone(block);
  }

  /**
   * The next {@link #writeCopy} leaves the first {@code bytesWritten} bytes of the new block over
   * the old one (over nothing when the copy did not exist: the copy is then that short), then
   * throws {@code IOException("injected torn write")}.
   */
  public synchronized void tearNextWrite(int bytesWritten) {
    if (bytesWritten < 0) {
      throw new IllegalArgumentException("bytesWritten must be >= 0, got " + bytesWritten);
    }
    tearAt = bytesWritten;
  }

  /** The next {@link #writeCopy} throws {@code IOException} before changing anything. */
  public synchronized void failNextWrite() {
    failNext = true;
  }

  /** Number of copy writes that completed. */
  public synchronized int completedWrites() {
    return writes;
  }

  /** Replaces a copy directly (no fault injection), e.g. to plant a damaged block in a test. */
  public synchronized void putCopy(int index, byte[] block) {
    checkIndex(index);
    copies[index] = clone(block);
  }

  private static void checkIndex(int index) {
    if (index != 0 && index != 1) {
      throw new IllegalArgumentException("boot environment copy index must be 0 or 1: " + index);
    }
  }

  private static byte[] clone(byte[] b) {
    return b == null ? null : b.clone();
  }
}
