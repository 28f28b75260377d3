package dev.kubeos.formats.chunk;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What to do for every chunk of a target image: nothing (already in place in the target slot),
 * write zeros, copy from the seed (the booted slot) or fetch. Adjacent fetched chunks are coalesced
 * into one range request of at most {@code maxRangeBytes}. Pure.
 *
 * @param local the chunks handled without the network, in image order
 * @param fetches the range requests, in image order
 * @param stats byte counts per kind
 */
public record DeltaPlan(List<Step> local, List<FetchRange> fetches, Stats stats) {

  /** How a chunk gets into the target slot without the network. */
  public enum Action {
    /** the target slot already holds the chunk at its offset */
    IN_PLACE,
    /** an all-zero chunk: zeros are written */
    ZERO,
    /** read from the seed at {@link Step#seedOffset()} */
    COPY
  }

  /** One locally handled chunk. */
  public record Step(Chunk chunk, Action action, long seedOffset) {}

  /** One range request covering {@code chunks} (contiguous, in order). */
  public record FetchRange(long offset, long length, List<Chunk> chunks) {
    public long end() {
      return offset + length;
    }
  }

  /**
   * Byte counts of a plan.
   *
   * @param imageBytes the image size
   * @param inPlaceBytes already in the target slot
   * @param zeroBytes written as zeros
   * @param copyBytes copied from the seed
   * @param fetchBytes fetched by range requests
   * @param ranges number of ranges to fetch (several go in one request where the server allows)
   * @param chunks number of chunks
   */
  public record Stats(
      long imageBytes,
      long inPlaceBytes,
      long zeroBytes,
      long copyBytes,
      long fetchBytes,
      int ranges,
      int chunks) {

    /** Fetched bytes as a fraction of the image. */
    public double fetchedFraction() {
      return imageBytes == 0 ? 0 : (double) fetchBytes / imageBytes;
    }
  }

  /** Which chunks the target slot already holds at their own offsets. */
  @FunctionalInterface
  public interface InPlace {
    InPlace NONE = i -> false;

    boolean holds(int chunkIndex);
  }

  /**
   * Plans the assembly of {@code target}.
   *
   * @param inPlace chunks (by position in the index) that the target slot already holds
   * @param seed offsets in the seed of chunks it holds, by id
   * @param maxRangeBytes upper bound of one range request (at least one chunk is always fetched)
   */
  public static DeltaPlan plan(
      ChunkIndex target, InPlace inPlace, Map<ChunkId, Long> seed, long maxRangeBytes) {
    List<Step> local = new ArrayList<>();
    List<FetchRange> fetches = new ArrayList<>();
    long inPlaceBytes = 0;
    long zeroBytes = 0;
    long copyBytes = 0;
    long fetchBytes = 0;
    List<Chunk> run = new ArrayList<>();
    long runBytes = 0;
    List<Chunk> chunks = target.chunks();
    for (int i = 0; i < chunks.size(); i++) {
      Chunk c = chunks.get(i);
      Long from = c.zero() ? null : seed.get(c.id());
      boolean fetch = !c.zero() && from == null && !inPlace.holds(i);
      if (fetch) {
        if (!run.isEmpty() && runBytes + c.length() > maxRangeBytes) {
          fetches.add(range(run, runBytes));
          run = new ArrayList<>();
          runBytes = 0;
        }
        run.add(c);
        runBytes += c.length();
        fetchBytes += c.length();
        continue;
      }
      if (!run.isEmpty()) {
        fetches.add(range(run, runBytes));
        run = new ArrayList<>();
        runBytes = 0;
      }
      if (inPlace.holds(i)) {
        local.add(new Step(c, Action.IN_PLACE, -1));
        inPlaceBytes += c.length();
      } else if (c.zero()) {
        local.add(new Step(c, Action.ZERO, -1));
        zeroBytes += c.length();
      } else {
        local.add(new Step(c, Action.COPY, from));
        copyBytes += c.length();
      }
    }
    if (!run.isEmpty()) {
      fetches.add(range(run, runBytes));
    }
    return new DeltaPlan(
        List.copyOf(local),
        List.copyOf(fetches),
        new Stats(
            target.imageSize(),
            inPlaceBytes,
            zeroBytes,
            copyBytes,
            fetchBytes,
            fetches.size(),
            chunks.size()));
  }

  private static FetchRange range(List<Chunk> run, long bytes) {
    return new FetchRange(run.get(0).offset(), bytes, List.copyOf(run));
  }
}
