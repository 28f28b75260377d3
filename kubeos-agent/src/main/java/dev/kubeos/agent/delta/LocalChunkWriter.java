package dev.kubeos.agent.delta;

import dev.kubeos.agent.port.BlockDevice;
import dev.kubeos.formats.chunk.Chunk;
import dev.kubeos.formats.chunk.DeltaPlan;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Writes the chunks the node has itself: zero chunks, and copies from the seed. A copy is not
 * hashed again: the seed is the read-only booted slot whose chunks were hashed moments ago (these
 * reads hit the page cache), and the read-back of the whole image checks every byte anyway.
 */
final class LocalChunkWriter {
  /** Largest single read+write of adjacent copied chunks. */
  private static final int COPY_BYTES = 4 << 20;

  private LocalChunkWriter() {}

  /** Carries out the local {@code steps} (in-place ones are skipped) until done or a failure. */
  static void write(List<DeltaPlan.Step> steps, BlockDevice seed, SlotAssembly slot)
      throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(COPY_BYTES);
    byte[] zeros = new byte[maxChunk(steps)];
    for (int i = 0; i < steps.size(); ) {
      if (slot.failed()) {
        return;
      }
      DeltaPlan.Step s = steps.get(i);
      Chunk c = s.chunk();
      switch (s.action()) {
        case IN_PLACE:
          i++;
          continue;
        case ZERO:
          slot.write(c.offset(), c.length(), ByteBuffer.wrap(zeros, 0, c.length()));
          slot.report(c.length());
          i++;
          break;
        case COPY:
          int j = adjacentCopies(steps, i);
          long length = steps.get(j - 1).chunk().end() - c.offset();
          buf.clear().limit((int) length);
          seed.read(s.seedOffset(), buf);
          slot.write(c.offset(), length, ByteBuffer.wrap(buf.array(), 0, (int) length));
          slot.report(length);
          i = j;
          break;
        default:
          throw new IllegalStateException("unexpected " + s.action());
      }
    }
  }

  /**
   * The end (exclusive) of the run of copies from step {@code i} on that follow each other in the
   * target and in the seed, up to {@link #COPY_BYTES}: one read, one write.
   */
  private static int adjacentCopies(List<DeltaPlan.Step> steps, int i) {
    DeltaPlan.Step s = steps.get(i);
    long length = s.chunk().length();
    int j = i + 1;
    while (j < steps.size() && length + steps.get(j).chunk().length() <= COPY_BYTES) {
      DeltaPlan.Step n = steps.get(j);
      if (n.action() != DeltaPlan.Action.COPY
          || n.chunk().offset() != s.chunk().offset() + length
          || n.seedOffset() != s.seedOffset() + length) {
        break;
      }
      length += n.chunk().length();
      j++;
    }
    return j;
  }

  private static int maxChunk(List<DeltaPlan.Step> steps) {
    int max = 1;
    for (DeltaPlan.Step s : steps) {
      max = Math.max(max, s.chunk().length());
    }
    return max;
  }
}
