package dev.kubeos.agent.disk;

import dev.kubeos.agent.port.BlockDevice;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A {@link BlockDevice} held in a heap byte array (up to about 2 GiB; meant for a few hundred MiB
 * at most), with fault injection for tests of code that writes disks.
 *
 * <p>{@link #failWritesAfter(long)} gives writes a byte budget: the write that would exceed it
 * stores only the bytes up to the budget and then throws {@code IOException("injected ...")}, like
 * a medium that fails mid-write; every later write throws at once until {@link #clearFaults()}.
 * {@link #writtenBytes()} counts the bytes really stored and {@link #syncCount()} the calls of
 * {@link #sync()}. Slices share the same storage, budget and counters. All methods are thread-safe.
 */
public final class MemoryBlockDevice implements BlockDevice {
  private final byte[] data;
  private long writeBudget = Long.MAX_VALUE;
  private long writtenBytes;
  private long syncCount;
  private boolean failSyncs;
  private boolean closed;

  /** A zero-filled device of {@code size} bytes. */
  public MemoryBlockDevice(long size) {
    if (size < 0 || size > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          "size " + size + " is outside 0.." + (Integer.MAX_VALUE - 8));
    }
    this.data = new byte[(int) size];
  }

  /** A device holding a copy of {@code contents}. */
  public MemoryBlockDevice(byte[] contents) {
    this.data = contents.clone();
  }

  /**
   * From now on allow only {@code bytes} more bytes to be written; the write that crosses the
   * budget stores the bytes up to it and throws.
   */
  public synchronized void failWritesAfter(long bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("negative budget " + bytes);
    }
    writeBudget = bytes;
  }

  /** Makes every following {@link #sync()} throw {@code IOException("injected ...")}. */
  public synchronized void failSyncs() {
    failSyncs = true;
  }

  /** Removes all injected faults. */
  public synchronized void clearFaults() {
    writeBudget = Long.MAX_VALUE;
    failSyncs = false;
  }

  /** Bytes stored by writes so far (including the partial write that hit the budget). */
  public synchronized long writtenBytes() {
    return writtenBytes;
  }

  /** Number of {@link #sync()} calls so far (including injected failures). */
  public synchronized long syncCount() {
    return syncCount;
  }

  /** A copy of the whole contents. */
  public synchronized byte[] toByteArray() {
    return data.clone();
  }

  /** A copy of {@code length} bytes at {@code offset}. */
  public synchronized byte[] copyOfRange(long offset, int length) throws IOException {
    BlockRanges.check("read", offset, length, data.length);
    return Arrays.copyOfRange(data, (int) offset, (int) offset + length);
  }

  @Override
  public synchronized long size() {
    return data.length;
  }

  @Override
  public synchronized void read(long offset, ByteBuffer dst) throws IOException {
    ensureOpen();
    BlockRanges.check("read", offset, dst.remaining(), data.length);
    dst.put(data, (int) offset, dst.remaining());
  }

  @Override
  public synchronized void write(long offset, ByteBuffer src) throws IOException {
    ensureOpen();
    int length = src.remaining();
    BlockRanges.check("write", offset, length, data.length);
    int allowed = (int) Math.min(length, writeBudget);
    src.get(data, (int) offset, allowed);
    writtenBytes += allowed;
    if (writeBudget != Long.MAX_VALUE) {
      writeBudget -= allowed;
    }
    if (allowed < length) {
      throw new IOException(
          "injected write failure at offset "
              + (offset + allowed)
              + " after "
              + allowed
              + " of "
              + length
              + " bytes");
    }
  }

  @Override
  public synchronized void sync() throws IOException {
    ensureOpen();
    syncCount++;
    if (failSyncs) {
      throw new IOException("injected sync failure");
    }
  }

  @Override
  public BlockDevice slice(long offset, long length) throws IOException {
    return SlicedBlockDevice.of(this, offset, length);
  }

  @Override
  public synchronized void close() {
    closed = true;
  }

  private void ensureOpen() throws IOException {
    if (closed) {
      throw new IOException("memory block device is closed");
    }
  }

  @Override
  public String toString() {
    return "memory(" + data.length + " bytes)";
  }
}
