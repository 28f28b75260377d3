package dev.kubeos.agent.delta;

import dev.kubeos.agent.port.BlockDevice;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.chunk.Chunker;
import dev.kubeos.formats.digest.Sha256;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** Reads an assembled image back from its slot (uncached where possible) and hashes it. */
final class SlotReadBack {
  private static final int PIECE = 4 << 20;

  private SlotReadBack() {}

  /**
   * The SHA-256 of the first {@code size} bytes of {@code target}; the next read overlaps the
   * hashing.
   */
  static Sha256 hash(BlockDevice target, long size) throws IOException {
    MessageDigest md = Chunker.sha256();
    ByteBuffer buf = ByteBuffer.allocateDirect(PIECE + 4096).alignedSlice(4096);
    byte[][] heaps = {new byte[PIECE], new byte[PIECE]};
    ExecutorService hasher =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "delta-read-back-hash");
              t.setDaemon(true);
              return t;
            });
    try {
      Future<?> pending = null;
      int k = 0;
      for (long at = 0; at < size; ) {
        int n = (int) Math.min(PIECE, size - at);
        buf.clear().limit(n);
        try {
          target.readUncached(at, buf);
        } catch (IOException e) {
          throw new AgentException(
              ErrorCode.VERIFY_FAILED,
              "reading back " + n + " bytes at slot offset " + at + " failed: " + e,
              e);
        }
        buf.flip();
        await(pending); // the hasher is done with the buffer filled two pieces ago
        byte[] heap = heaps[k];
        k ^= 1;
        buf.get(heap, 0, n);
        pending = hasher.submit(() -> md.update(heap, 0, n));
        at += n;
      }
      await(pending);
    } finally {
      hasher.shutdown();
    }
    return Sha256.of(md.digest());
  }

  private static void await(Future<?> f) throws IOException {
    if (f == null) {
      return;
    }
    try {
      f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while verifying the slot", e);
    } catch (ExecutionException e) {
      throw new AgentException(
          ErrorCode.INTERNAL, "hashing the slot failed: " + e.getCause(), e.getCause());
    }
  }
}
