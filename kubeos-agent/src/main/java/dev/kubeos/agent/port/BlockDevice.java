package dev.kubeos.agent.port;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A random-access byte device: a whole disk (block device or disk image file) or a window of one (a
 * partition). Offsets are bytes from the start of this device.
 */
public interface BlockDevice extends Closeable {

  /** Size in bytes. */
  long size() throws IOException;

  /** Reads exactly {@code dst.remaining()} bytes at {@code offset}; EOF before that is an error. */
  void read(long offset, ByteBuffer dst) throws IOException;

  /** Writes all of {@code src} at {@code offset}; writing past {@link #size()} is an error. */
  void write(long offset, ByteBuffer src) throws IOException;

  /** Makes everything written so far durable (fsync). */
  void sync() throws IOException;

  /**
   * Reads {@code dst.remaining()} bytes at {@code offset} from the medium, bypassing caches where
   * the implementation can (O_DIRECT). Used for read-back verification.
   */
  default void readUncached(long offset, ByteBuffer dst) throws IOException {
    read(offset, dst);
  }

  /** True when {@link #readUncached} really bypasses the page cache. */
  default boolean uncachedReadsBypassCache() {
    return false;
  }

  /** A view of {@code length} bytes starting at {@code offset}; closing it does not close this. */
  BlockDevice slice(long offset, long length) throws IOException;

  @Override
  void close() throws IOException;
}
