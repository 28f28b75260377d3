package dev.kubeos.agent.delta;

import dev.kubeos.agent.port.BlockDevice;
import dev.kubeos.formats.chunk.Chunk;
import dev.kubeos.formats.chunk.ChunkId;
import dev.kubeos.formats.chunk.ChunkIndex;
import dev.kubeos.formats.chunk.Chunker;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.BitSet;
import java.util.List;
import java.util.Map;

/**
 * Which chunks the target slot already holds at their own offsets (a re-run of the same stage, or
 * staging the version the slot already holds, fetches nothing).
 */
final class InPlaceScan {
  private InPlaceScan() {}

  /**
   * The indexes of the chunks of {@code index} that {@code target} holds. Only zero chunks and
   * chunks the seed does not have are looked at: copying a seed chunk costs a read and a write,
   * checking it in place a read and a hash, and neither needs the network.
   */
  static BitSet held(ChunkIndex index, BlockDevice target, Map<ChunkId, Long> seed)
      throws IOException {
    BitSet held = new BitSet();
    List<Chunk> chunks = index.chunks();
    ByteBuffer buf = ByteBuffer.allocate(index.params().maxSize());
    MessageDigest md = Chunker.sha256();
    for (int i = 0; i < chunks.size(); i++) {
      Chunk c = chunks.get(i);
      if (!c.zero() && seed.containsKey(c.id())) {
        continue;
      }
      buf.clear().limit(c.length());
      target.read(c.offset(), buf);
      boolean zero = isZero(buf.array(), c.length());
      if (c.zero()) {
        if (zero) {
          held.set(i);
        }
        continue;
      }
      if (zero) {
        continue; // an all-zero region cannot hold a non-zero chunk; skip hashing it
      }
      md.update(buf.array(), 0, c.length());
      if (ChunkId.of(md.digest()).equals(c.id())) {
        held.set(i);
      }
    }
    return held;
  }

  static boolean isZero(byte[] b, int len) {
    for (int i = 0; i < len; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }
}
