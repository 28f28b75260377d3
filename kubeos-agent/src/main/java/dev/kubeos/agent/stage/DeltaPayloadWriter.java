package dev.kubeos.agent.stage;

import dev.kubeos.agent.delta.ChunkIndexLoader;
import dev.kubeos.agent.delta.DeltaImages;
import dev.kubeos.agent.delta.DeltaStager;
import dev.kubeos.agent.payload.RangeSources;
import dev.kubeos.agent.port.BlockDevice;
import dev.kubeos.formats.chunk.ChunkIndex;
import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.oci.source.RangeSource;
import java.io.IOException;

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
    RangeSource image =
        RangeSources.open(DeltaImages.imageUrl(payload.url(), index), payload.fetch());
    DeltaStager.Result r = assemble(index, image, slot);
    log(slot, r, r.fetchedBytes(), null);
    return staged(r, r.imageSha256(), r.fetchedBytes());
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
