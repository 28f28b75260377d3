package dev.kubeos.agent.delta;

import dev.kubeos.agent.port.BlockDevice;
import dev.kubeos.formats.chunk.ChunkId;
import dev.kubeos.formats.chunk.Chunker;
import dev.kubeos.formats.chunk.ChunkerParams;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs the {@link Chunker} over a slot's block device to find seed chunks (an image file is chunked
 * by {@code ChunkIndexFiles} of kubeos-formats).
 */
public final class SlotChunker {
  /** Read size of each seed-chunking thread: up to 4 of them share the agent's 48 MiB heap. */
  private static final int SEED_IO_BYTES = 1 << 20;

  private SlotChunker() {}

  /**
   * Bytes a segment's chunker reads past its end so that the next segment's chunker has fallen into
   * step with the chunk boundaries of a single pass (it does within a chunk or two).
   */
  static final long OVERLAP = 1 << 20;

  /** Below this size one thread chunks the device. */
  static final long PARALLEL_FROM = 64L << 20;

  /**
   * Chunks the first {@code length} bytes of {@code device} and returns, for every chunk whose id
   * is in {@code wanted}, the offset of an occurrence. Large devices are chunked in segments on all
   * cores (hashing, not the disk, is the bottleneck of a page-cached slot); each segment's chunker
   * reads {@link #OVERLAP} bytes into the next segment, whose chunker starts out of step with a
   * single pass and falls into step at the first boundary both find. A chunk missed in a
   * pathological case is only fetched instead of copied: the seed just saves bytes.
   */
  public static Map<ChunkId, Long> locate(
      BlockDevice device, long length, ChunkerParams params, Set<ChunkId> wanted)
      throws IOException {
    int threads =
        length < PARALLEL_FROM ? 1 : Math.min(4, Runtime.getRuntime().availableProcessors());
    return locate(device, length, params, wanted, threads);
  }

  static Map<ChunkId, Long> locate(
      BlockDevice device, long length, ChunkerParams params, Set<ChunkId> wanted, int threads)
      throws IOException {
    Map<ChunkId, Long> found = new ConcurrentHashMap<>();
    long segment = (length / threads + SEED_IO_BYTES - 1) / SEED_IO_BYTES * SEED_IO_BYTES;
    List<Future<?>> parts = new ArrayList<>();
    ExecutorService pool =
        Executors.newFixedThreadPool(
            threads,
            r -> {
              Thread t = new Thread(r, "seed-chunker");
              t.setDaemon(true);
              return t;
            });
    try {
      for (long from = 0; from < length; from += segment) {
        long start = from;
        long end = Math.min(length, from + segment);
        long stop = end == length ? length : Math.min(length, end + OVERLAP);
        parts.add(pool.submit(() -> chunk(device, start, stop, params, wanted, found)));
      }
      for (Future<?> f : parts) {
        try {
          f.get();
        } catch (ExecutionException e) {
          if (e.getCause() instanceof IOException io) {
            throw io;
          }
          throw new IllegalStateException("chunking the seed failed", e.getCause());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted while chunking the seed", e);
        }
      }
    } finally {
      pool.shutdown(); // never interrupt a reader: that would close the disk's FileChannel
    }
    return found;
  }

  private static Void chunk(
      BlockDevice device,
      long start,
      long stop,
      ChunkerParams params,
      Set<ChunkId> wanted,
      Map<ChunkId, Long> found)
      throws IOException {
    Chunker chunker =
        new Chunker(
            params,
            c -> {
              if (!c.zero() && wanted.contains(c.id())) {
                found.putIfAbsent(c.id(), start + c.offset());
              }
            });
    ByteBuffer buf = ByteBuffer.allocate(SEED_IO_BYTES);
    for (long at = start; at < stop; ) {
      int n = (int) Math.min(buf.capacity(), stop - at);
      buf.clear().limit(n);
      device.read(at, buf);
      buf.flip();
      chunker.update(buf);
      at += n;
    }
    chunker.finish();
    return null;
  }
}
