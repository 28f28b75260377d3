package dev.kubeos.agent.delta;

import dev.kubeos.agent.port.BlockDevice;
import dev.kubeos.agent.stage.ProgressListener;
import dev.kubeos.agent.stage.RawImageWriter;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.chunk.Chunk;
import dev.kubeos.formats.chunk.ChunkId;
import dev.kubeos.formats.chunk.ChunkIndex;
import dev.kubeos.formats.chunk.DeltaPlan;
import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.oci.source.RangeSource;
import java.io.IOException;
import java.time.Duration;
import java.util.BitSet;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Assembles a raw root file-system image in a slot from what the node already has plus the chunks
 * it lacks ({@link ChunkIndexLoader} has checked the index against the request's digest):
 *
 * <ol>
 *   <li>checks the image's size on the server against the index, and that the image fits the slot
 *       (nothing is written before this passes);
 *   <li>chunks the seed (the booted slot) with the index's chunker and keeps the offsets of the
 *       chunks the target needs ({@link SlotChunker});
 *   <li>finds, among the zero chunks and the chunks the seed lacks, those the target slot already
 *       holds at their own offsets ({@link InPlaceScan});
 *   <li>copies seed chunks and writes zero chunks ({@link LocalChunkWriter}) while the rest is
 *       fetched by range ({@link RangeFetcher}), all into one {@link SlotAssembly};
 *   <li>syncs, reads the whole image back from the slot ({@link SlotReadBack}) and checks its
 *       SHA-256 against the image digest. Only then does the caller record the slot verified.
 * </ol>
 *
 * No thread is ever interrupted (that would close the slot's FileChannel).
 */
public final class DeltaStager {
  private static final System.Logger LOG = System.getLogger("kubeos.agent");

  /**
   * Knobs.
   *
   * @param maxRangeBytes upper bound of one coalesced range, and of the bytes of one request
   * @param rangesPerRequest ranges asked for in one request ({@code Range: bytes=A-B,C-D,…})
   * @param parallelFetches concurrent range requests
   * @param maxResumes re-opens per range after a broken connection
   * @param resumeBackoff pause before a re-open (grows linearly)
   */
  public record Tuning(
      long maxRangeBytes,
      int rangesPerRequest,
      int parallelFetches,
      int maxResumes,
      Duration resumeBackoff) {
    /**
     * 8 MiB per request, up to 32 ranges in it (a ~700-byte Range header, far below the 8 KiB
     * header line nginx allows by default), 4 connections, 5 resumes per range.
     */
    public static Tuning defaults() {
      return new Tuning(8 << 20, 32, 4, 5, Duration.ofMillis(200));
    }
  }

  /**
   * What a delta stage did.
   *
   * @param imageSha256 digest of the image now in the slot (read back)
   * @param imageBytes image size
   * @param plan what was planned per chunk kind
   * @param fetchedBytes bytes received by range requests (includes re-fetches after resumes)
   * @param resumes re-opened range requests
   * @param readBackUncached whether the read-back bypassed the page cache
   * @param elapsed wall time of {@link #stage}
   */
  public record Result(
      Sha256 imageSha256,
      long imageBytes,
      DeltaPlan.Stats plan,
      long fetchedBytes,
      int resumes,
      boolean readBackUncached,
      Duration elapsed) {}

  private final Tuning tuning;

  public DeltaStager(Tuning tuning) {
    this.tuning = tuning;
  }

  public DeltaStager() {
    this(Tuning.defaults());
  }

  /**
   * Assembles {@code index}'s image in {@code target} from {@code seed} (may be null) and {@code
   * image}.
   */
  public Result stage(
      ChunkIndex index,
      RangeSource image,
      BlockDevice seed,
      BlockDevice target,
      ProgressListener progress)
      throws IOException {
    long start = System.nanoTime();
    long size = image.size();
    checkFits(index, image, size, target);
    Set<ChunkId> wanted = new HashSet<>();
    for (Chunk c : index.chunks()) {
      if (!c.zero()) {
        wanted.add(c.id());
      }
    }
    long t = System.nanoTime();
    Map<ChunkId, Long> seedChunks =
        seed == null ? Map.of() : SlotChunker.locate(seed, seed.size(), index.params(), wanted);
    long seedNanos = System.nanoTime() - t;
    t = System.nanoTime();
    BitSet inPlace = InPlaceScan.held(index, target, seedChunks);
    long inPlaceNanos = System.nanoTime() - t;
    DeltaPlan plan = DeltaPlan.plan(index, inPlace::get, seedChunks, tuning.maxRangeBytes());
    DeltaPlan.Stats st = plan.stats();
    log(
        "delta %s: %d chunks; %d bytes in place, %d copied from the booted slot, %d zero, %d to"
            + " fetch in %d ranges",
        image.describe(),
        st.chunks(),
        st.inPlaceBytes(),
        st.copyBytes(),
        st.zeroBytes(),
        st.fetchBytes(),
        st.ranges());

    t = System.nanoTime();
    SlotAssembly slot = new SlotAssembly(target, size, progress, st.inPlaceBytes());
    RangeFetcher fetcher = RangeFetcher.start(image, plan.fetches(), tuning, slot);
    try {
      LocalChunkWriter.write(plan.local(), seed, slot);
    } catch (RuntimeException | IOException e) {
      slot.fail(e);
    }
    long localNanos = System.nanoTime() - t;
    fetcher.join();
    slot.rethrow();
    long fetchNanos = System.nanoTime() - t;
    target.sync();
    long writeNanos = System.nanoTime() - t;
    t = System.nanoTime();
    Sha256 actual = SlotReadBack.hash(target, size);
    log(
        "delta %s: seed chunked in %.1f s, in-place check %.1f s, copies done after %.1f s,"
            + " fetches after %.1f s, synced after %.1f s, read-back %.1f s",
        image.describe(),
        seedNanos / 1e9,
        inPlaceNanos / 1e9,
        localNanos / 1e9,
        fetchNanos / 1e9,
        writeNanos / 1e9,
        (System.nanoTime() - t) / 1e9);
    checkReadBack(index, image, size, actual);
    progress.progress(size, size);
    return new Result(
        actual,
        size,
        st,
        slot.fetchedBytes(),
        slot.resumes(),
        target.uncachedReadsBypassCache(),
        Duration.ofNanos(System.nanoTime() - start));
  }

  /** The image on the server is the one the index describes, and it fits the slot. */
  private static void checkFits(ChunkIndex index, RangeSource image, long size, BlockDevice target)
      throws IOException {
    if (size != index.imageSize()) {
      throw new AgentException(
          ErrorCode.PAYLOAD_INVALID,
          image.describe()
              + " has "
              + size
              + " bytes but its chunk index describes "
              + index.imageSize()
              + "; the image and the index are from different builds. Nothing was written");
    }
    RawImageWriter.requireFits(image.describe(), size, target.size());
  }

  /** The slot's first {@code size} bytes hash to the image digest. */
  private static void checkReadBack(ChunkIndex index, RangeSource image, long size, Sha256 actual) {
    if (!actual.equals(index.imageSha256())) {
      throw new AgentException(
          ErrorCode.VERIFY_FAILED,
          "after assembling "
              + image.describe()
              + " the slot's first "
              + size
              + " bytes hash to "
              + actual
              + " instead of "
              + index.imageSha256()
              + "; the slot is not usable. Retry the stage; if it repeats, check the disk or"
              + " stage the full image with --format raw");
    }
  }

  private static void log(String format, Object... args) {
    LOG.log(System.Logger.Level.INFO, String.format(format, args));
  }
}
