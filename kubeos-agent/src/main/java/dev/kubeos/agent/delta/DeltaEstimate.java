package dev.kubeos.agent.delta;

import dev.kubeos.agent.disk.FileBlockDevice;
import dev.kubeos.agent.port.BlockDevice;
import dev.kubeos.formats.chunk.Chunk;
import dev.kubeos.formats.chunk.ChunkId;
import dev.kubeos.formats.chunk.ChunkIndex;
import dev.kubeos.formats.chunk.ChunkIndexCodec;
import dev.kubeos.formats.chunk.ChunkerParams;
import dev.kubeos.formats.chunk.DeltaPlan;
import dev.kubeos.formats.chunk.io.ChunkIndexFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * What a node holding one image would fetch to stage another: the delta plan with the old image as
 * the seed (and nothing in place), as {@code kubeos image delta-stats} prints it.
 *
 * @param plan byte counts of the plan
 * @param indexBytes size of the new image's encoded chunk index (fetched too)
 * @param chunks chunks in the new image
 * @param distinctChunks distinct non-zero chunk ids in the new image
 * @param elapsed time to chunk both images and plan
 */
public record DeltaEstimate(
    DeltaPlan.Stats plan, long indexBytes, int chunks, long distinctChunks, Duration elapsed) {

  /** Bytes a node fetches in all: the index plus the missing chunks. */
  public long totalFetchBytes() {
    return indexBytes + plan.fetchBytes();
  }

  /** Chunks {@code newImage} and {@code oldImage} with {@code params} and plans the delta. */
  public static DeltaEstimate of(Path oldImage, Path newImage, ChunkerParams params)
      throws IOException {
    long start = System.nanoTime();
    ChunkIndex target = ChunkIndexFiles.index(newImage, params);
    Set<ChunkId> wanted = new HashSet<>();
    for (Chunk c : target.chunks()) {
      if (!c.zero()) {
        wanted.add(c.id());
      }
    }
    Map<ChunkId, Long> seed;
    try (BlockDevice old = FileBlockDevice.open(oldImage, false)) {
      seed = SlotChunker.locate(old, old.size(), params, wanted);
    }
    DeltaPlan plan =
        DeltaPlan.plan(
            target, DeltaPlan.InPlace.NONE, seed, DeltaStager.Tuning.defaults().maxRangeBytes());
    return new DeltaEstimate(
        plan.stats(),
        ChunkIndexCodec.encode(target).length,
        target.chunks().size(),
        target.distinctChunks(),
        Duration.ofNanos(System.nanoTime() - start));
  }
}
