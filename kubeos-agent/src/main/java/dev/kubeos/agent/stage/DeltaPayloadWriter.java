package dev.kubeos.agent.stage;

import dev.kubeos.agent.delta.ChunkIndexLoader;
import dev.kubeos.agent.delta.DeltaImages;
import dev.kubeos.agent.delta.DeltaStager;
import dev.kubeos.agent.payload.PayloadSources;
import dev.kubeos.agent.payload.RangeSources;
import dev.kubeos.agent.port.BlockDevice;
import dev.kubeos.formats.chunk.ChunkIndex;
import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.oci.source.RangeSource;
import java.io.IOException;
import java.net.URI;

/**
 * A raw image assembled by {@link DeltaStager} from its chunk index: the booted slot is the seed,
 * only the chunks the node lacks are fetched by range from the image next to the index.
 */
public final class DeltaPayloadWriter implements PayloadWriter<ResolvedPayload.ChunkIndexed> {
  private static final System.Logger LOG = System.getLogger("kubeos.agent");

  @Override
  public StageResult write(ResolvedPayload.ChunkIndexed payload, TargetSlot slot)
      throws IOException {
    ChunkIndex index = ChunkIndexLoader.load(payload.index(), payload.expected());
    URI imageUrl = DeltaImages.imageUrl(payload.url(), index);
    if (!fitsHeap(index, slot)) {
      return RawPayloadWriter.stream(
          PayloadSources.open(imageUrl, payload.fetch()), payload.expected(), slot);
    }
    RangeSource image = RangeSources.open(imageUrl, payload.fetch());
    DeltaStager.Result r = assemble(index, image, slot);
    log(slot, r, r.fetchedBytes(), null);
    return staged(r, r.imageSha256(), r.fetchedBytes());
  }

  /**
   * Heap a delta stage holds per non-zero chunk of the index: the index, the wanted set, the seed
   * slot's chunk map and the plan. About 250 bytes measured (bench/agent-memory-bench.sh with
   * -Xlog:gc: 18-20 MiB live after a full collection for the 65,536 chunks of a 1 GiB image, from
   * 3-4 MiB at idle); the bound leaves room for the garbage the stage makes meanwhile.
   */
  static final long HEAP_BYTES_PER_CHUNK = 400;

  /**
   * Whether the heap can hold the delta stage of {@code index}. When it cannot (an image of many
   * GiB in the agent daemon's 48 MiB heap: about 2 GiB fit), the caller stages the whole raw image
   * instead, which needs no per-chunk memory: more bytes on the wire, but the stage ends instead of
   * running the JVM out of memory (the unit's -XX:+ExitOnOutOfMemoryError would end the daemon).
   * Collects first, so that the garbage of earlier work does not count as used.
   */
  static boolean fitsHeap(ChunkIndex index, TargetSlot slot) {
    long need = heapNeeded(index);
    Runtime rt = Runtime.getRuntime();
    if (need <= rt.maxMemory() - (rt.totalMemory() - rt.freeMemory())) {
      return true;
    }
    System.gc();
    long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
    if (need <= free) {
      return true;
    }
    LOG.log(
        System.Logger.Level.WARNING,
        String.format(
            "stage %s: a delta of %d chunks needs about %d MiB of heap, %d MiB are free (-Xmx);"
                + " staging the whole image instead",
            slot.version(), need / HEAP_BYTES_PER_CHUNK, need >> 20, free >> 20));
    return false;
  }

  /** Heap a delta stage of {@code index} needs: its non-zero chunks times the bound per chunk. */
  static long heapNeeded(ChunkIndex index) {
    return index.chunks().stream().filter(c -> !c.zero()).count() * HEAP_BYTES_PER_CHUNK;
  }

  /**
   * Assembles the image {@code index} describes in the slot from the seed slot and {@code image}.
   */
  static DeltaStager.Result assemble(ChunkIndex index, RangeSource image, TargetSlot slot)
      throws IOException {
    try (BlockDevice seed = slot.openSeed();
        BlockDevice target = slot.openForWriting()) {
      return new DeltaStager().stage(index, image, seed, target, slot.progress());
    }
  }

  /**
   * The stage's result.
   *
   * @param recorded the digest recorded for the slot
   * @param fetched bytes fetched in all
   */
  static StageResult staged(DeltaStager.Result r, Sha256 recorded, long fetched) {
    return new StageResult(
        r.imageBytes(), recorded, r.readBackUncached(), r.elapsed(), r.resumes(), fetched);
  }

  /**
   * Logs where the image's bytes came from.
   *
   * @param fetched bytes fetched in all (with the index's, for an artifact)
   * @param artifact the registry artifact the index came from, or null for an index at a URL
   */
  static void log(TargetSlot slot, DeltaStager.Result r, long fetched, String artifact) {
    LOG.log(
        System.Logger.Level.INFO,
        String.format(
            "stage %s: delta%s fetched %d of %d bytes (%.1f%%%s) in %d ranges; %d copied from slot"
                + " %s, %d already in place, %d zero",
            slot.version(),
            artifact == null ? "" : " from " + artifact,
            fetched,
            r.imageBytes(),
            100.0 * fetched / Math.max(1, r.imageBytes()),
            artifact == null ? "" : ", index " + (fetched - r.fetchedBytes()),
            r.plan().ranges(),
            r.plan().copyBytes(),
            slot.seed(),
            r.plan().inPlaceBytes(),
            r.plan().zeroBytes()));
  }
}
