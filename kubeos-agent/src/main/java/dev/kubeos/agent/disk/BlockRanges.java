package dev.kubeos.agent.disk;

import java.io.IOException;

/** Bounds checks shared by the block-device implementations. */
final class BlockRanges {
  private BlockRanges() {}

  /** Throws unless {@code [offset, offset + length)} lies within {@code [0, size)}. */
  static void check(String what, long offset, long length, long size) throws IOException {
    if (offset < 0 || length < 0 || offset > size || length > size - offset) {
      throw new IOException(
          what
              + " of "
              + length
              + " bytes at offset "
              + offset
              + " is outside the device of "
              + size
              + " bytes");
    }
  }
}
