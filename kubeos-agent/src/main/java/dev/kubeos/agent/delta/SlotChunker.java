package dev.kubeos.agent.delta;

import dev.kubeos.agent.delta.model.Chunk;
import dev.kubeos.agent.delta.model.ChunkId;
import dev.kubeos.agent.delta.model.ChunkIndex;
import dev.kubeos.agent.delta.model.Chunker;
import dev.kubeos.agent.delta.model.ChunkerParams;
import dev.kubeos.agent.model.Sha256;
import dev.kubeos.agent.port.BlockDevice;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Runs the {@link Chunker} over devices and files. */
public final class SlotChunker {
  private static final int IO_BYTES = 4 << 20;

  private SlotChunker() {}

  /**
   * Chunks the first {@code length} bytes of {@code device} and returns, for every chunk whose id
   * is in {@code wanted}, the offset of its first occurrence.
   */
  public static Map<ChunkId, Long> locate(
      BlockDevice device, long length, ChunkerParams params, Set<ChunkId> wanted)
      throws IOException {
    Map<ChunkId, Long> found = new HashMap<>();
    Chunker chunker =
        new Chunker(
            params,
            c -> {
              if (!c.zero() && wanted.contains(c.id())) {
                found.putIfAbsent(c.id(), c.offset());
              }
            });
    ByteBuffer buf = ByteBuffer.allocate(IO_BYTES);
    for (long at = 0; at < length; ) {
      int n = (int) Math.min(buf.capacity(), length - at);
      buf.clear().limit(n);
      device.read(at, buf);
      buf.flip();
      chunker.update(buf);
      at += n;
    }
    chunker.finish();
    return found;
  }

  /** Chunks a whole image file into an index (one pass: chunks and the image digest). */
  public static ChunkIndex index(Path image, ChunkerParams params) throws IOException {
    List<Chunk> chunks = new ArrayList<>();
    Chunker chunker = new Chunker(params, chunks::add);
    MessageDigest whole = Chunker.sha256();
    byte[] buf = new byte[IO_BYTES];
    long size = 0;
    try (InputStream in = Files.newInputStream(image)) {
      for (int n = in.readNBytes(buf, 0, buf.length);
          n > 0;
          n = in.readNBytes(buf, 0, buf.length)) {
        chunker.update(buf, 0, n);
        whole.update(buf, 0, n);
        size += n;
      }
    }
    chunker.finish();
    return new ChunkIndex(
        params, image.getFileName().toString(), size, Sha256.of(whole.digest()), chunks);
  }
}
