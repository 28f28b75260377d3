package dev.kubeos.agent.delta;

import dev.kubeos.agent.port.BlockDevice;
import dev.kubeos.agent.stage.ProgressListener;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.chunk.Chunk;
import dev.kubeos.formats.chunk.ChunkId;
import dev.kubeos.formats.chunk.ChunkIndex;
import dev.kubeos.formats.chunk.ChunkIndexCodec;
import dev.kubeos.formats.chunk.Chunker;
import dev.kubeos.formats.chunk.DeltaPlan;
import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.oci.source.PayloadSource;
import dev.kubeos.oci.source.RangeSource;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Assembles a raw root file-system image in a slot from what the node already has plus the chunks
 * it lacks:
 *
 * <ol>
 *   <li>checks the index against the request's digest and the image's size on the server, and that
 *       the image fits the slot (nothing is written before this passes);
 *   <li>chunks the seed (the booted slot) with the index's chunker and keeps the offsets of the
 *       chunks the target needs;
 *   <li>finds, among the zero chunks and the chunks the seed lacks, those the target slot already
 *       holds at their own offsets (a re-run of the same stage, or staging the version the slot
 *       already holds, fetches nothing);
 *   <li>copies seed chunks, writes zero chunks, and fetches the rest with coalesced range requests
 *       on a few parallel connections, each fetched chunk's SHA-256 checked before it is written; a
 *       broken connection is resumed at the chunk it broke in;
 *   <li>syncs, reads the whole image back from the slot (uncached where possible) and checks its
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

  /** Largest single read+write of adjacent copied chunks. */
  private static final int COPY_BYTES = 4 << 20;

  private final Tuning tuning;

  public DeltaStager(Tuning tuning) {
    this.tuning = tuning;
  }

  public DeltaStager() {
    this(Tuning.defaults());
  }

  /**
   * Reads and parses the chunk index and checks that it describes the image the request names.
   *
   * @throws AgentException PAYLOAD_INVALID (not an index, corrupt), CHECKSUM_MISMATCH (describes
   *     another image), DOWNLOAD_FAILED
   */
  public static ChunkIndex loadIndex(PayloadSource src, Sha256 expected) throws IOException {
    byte[] bytes;
    try (InputStream in = src.open(0).stream()) {
      bytes = in.readNBytes(ChunkIndexCodec.MAX_BYTES + 1);
    }
    ChunkIndex index;
    try {
      index = ChunkIndexCodec.decode(bytes);
    } catch (IllegalArgumentException e) {
      throw new AgentException(
          ErrorCode.PAYLOAD_INVALID,
          src.describe()
              + " is not a usable chunk index: "
              + e.getMessage()
              + "; point --url at the rootfs-V.img.chunkidx the image builder wrote");
    }
    if (!index.imageSha256().equals(expected)) {
      throw new AgentException(
          ErrorCode.CHECKSUM_MISMATCH,
          src.describe()
              + " describes the image "
              + index.imageSha256()
              + " but the request expects "
              + expected
              + "; nothing was written. Check the digest (it is the image's, as in"
              + " rootfs-V.img.sha256) or the index URL");
    }
    return index;
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
    long slotSize = target.size();
    if (size > slotSize) {
      throw new AgentException(
          ErrorCode.PAYLOAD_TOO_LARGE,
          image.describe()
              + " is "
              + size
              + " bytes but the target slot holds "
              + slotSize
              + " bytes; nothing was written. Use a smaller image or a larger slot");
    }
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
    BitSet inPlace = inPlace(index, target, seedChunks);
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
    Run run = new Run(image, target, size, progress);
    run.done.addAndGet(st.inPlaceBytes());
    List<Thread> workers = run.startFetchers(plan.fetches());
    try {
      run.local(plan.local(), seed);
    } catch (RuntimeException | IOException e) {
      run.failure.compareAndSet(null, e);
    }
    long localNanos = System.nanoTime() - t;
    run.join(workers);
    run.rethrow();
    long fetchNanos = System.nanoTime() - t;
    target.sync();
    long writeNanos = System.nanoTime() - t;
    t = System.nanoTime();
    Sha256 actual = readBack(target, size, progress);
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
    progress.progress(size, size);
    return new Result(
        actual,
        size,
        st,
        run.fetched.get(),
        run.resumes.get(),
        target.uncachedReadsBypassCache(),
        Duration.ofNanos(System.nanoTime() - start));
  }

  /**
   * Which chunks the target already holds at their own offsets. Only zero chunks and chunks the
   * seed does not have are looked at: copying a seed chunk costs a read and a write, checking it in
   * place a read and a hash, and neither needs the network.
   */
  private static BitSet inPlace(ChunkIndex index, BlockDevice target, Map<ChunkId, Long> seed)
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

  /** Reads the image back from the slot and hashes it; the next read overlaps the hashing. */
  private static Sha256 readBack(BlockDevice target, long size, ProgressListener progress)
      throws IOException {
    MessageDigest md = Chunker.sha256();
    ByteBuffer buf = ByteBuffer.allocateDirect((4 << 20) + 4096).alignedSlice(4096);
    byte[][] heaps = {new byte[4 << 20], new byte[4 << 20]};
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
        int n = (int) Math.min(4 << 20, size - at);
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

  static boolean isZero(byte[] b, int len) {
    for (int i = 0; i < len; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }

  /** The mutable state of one {@link #stage} call. */
  private final class Run {
    final RangeSource image;
    final BlockDevice target;
    final long size;
    final ProgressListener progress;
    final AtomicReference<Exception> failure = new AtomicReference<>();
    final AtomicLong fetched = new AtomicLong();
    final AtomicLong done = new AtomicLong();
    final AtomicInteger resumes = new AtomicInteger();
    volatile long lastReport;

    Run(RangeSource image, BlockDevice target, long size, ProgressListener progress) {
      this.image = image;
      this.target = target;
      this.size = size;
      this.progress = progress;
    }

    /**
     * Zero chunks and copies. A copy is not hashed again: the seed is the read-only booted slot
     * whose chunks were hashed moments ago (these reads hit the page cache), and the read-back of
     * the whole image checks every byte anyway.
     */
    void local(List<DeltaPlan.Step> steps, BlockDevice seed) throws IOException {
      ByteBuffer buf = ByteBuffer.allocate(COPY_BYTES);
      byte[] zeros = new byte[maxChunk(steps)];
      for (int i = 0; i < steps.size(); ) {
        if (failure.get() != null) {
          return;
        }
        DeltaPlan.Step s = steps.get(i);
        Chunk c = s.chunk();
        switch (s.action()) {
          case IN_PLACE:
            i++;
            continue;
          case ZERO:
            write(c.offset(), c.length(), ByteBuffer.wrap(zeros, 0, c.length()));
            report(c.length());
            i++;
            break;
          case COPY:
            // chunks that follow each other in the target and in the seed: one read, one write
            int j = i + 1;
            long length = c.length();
            while (j < steps.size() && length + steps.get(j).chunk().length() <= COPY_BYTES) {
              DeltaPlan.Step n = steps.get(j);
              if (n.action() != DeltaPlan.Action.COPY
                  || n.chunk().offset() != c.offset() + length
                  || n.seedOffset() != s.seedOffset() + length) {
                break;
              }
              length += n.chunk().length();
              j++;
            }
            buf.clear().limit((int) length);
            seed.read(s.seedOffset(), buf);
            write(c.offset(), length, ByteBuffer.wrap(buf.array(), 0, (int) length));
            report(length);
            i = j;
            break;
          default:
            throw new IllegalStateException("unexpected " + s.action());
        }
      }
    }

    private int maxChunk(List<DeltaPlan.Step> steps) {
      int max = 1;
      for (DeltaPlan.Step s : steps) {
        max = Math.max(max, s.chunk().length());
      }
      return max;
    }

    void write(Chunk c, ByteBuffer bytes) throws IOException {
      write(c.offset(), c.length(), bytes);
    }

    void write(long offset, long length, ByteBuffer bytes) throws IOException {
      try {
        target.write(offset, bytes);
      } catch (IOException e) {
        throw new AgentException(
            ErrorCode.IO_ERROR,
            "writing " + length + " bytes to the slot at offset " + offset + " failed: " + e,
            e);
      }
    }

    void report(long bytes) {
      long d = done.addAndGet(bytes);
      long now = System.nanoTime();
      if (now - lastReport > 250_000_000L) {
        lastReport = now;
        progress.progress(d, size);
      }
    }

    List<Thread> startFetchers(List<DeltaPlan.FetchRange> ranges) {
      List<List<DeltaPlan.FetchRange>> requests = requests(ranges);
      Queue<List<DeltaPlan.FetchRange>> queue = new ConcurrentLinkedQueue<>(requests);
      List<Thread> threads = new ArrayList<>();
      int n = Math.min(tuning.parallelFetches(), requests.size());
      for (int i = 0; i < n; i++) {
        Thread t =
            new Thread(
                () -> {
                  try {
                    byte[] buf = new byte[maxLength(ranges)];
                    for (List<DeltaPlan.FetchRange> r = queue.poll();
                        r != null && failure.get() == null;
                        r = queue.poll()) {
                      fetch(r, buf);
                    }
                  } catch (Exception e) {
                    failure.compareAndSet(null, e);
                  }
                },
                "delta-fetch-" + i);
        t.setDaemon(true);
        t.start();
        threads.add(t);
      }
      return threads;
    }

    private int maxLength(List<DeltaPlan.FetchRange> ranges) {
      int max = 1;
      for (DeltaPlan.FetchRange r : ranges) {
        for (Chunk c : r.chunks()) {
          max = Math.max(max, c.length());
        }
      }
      return max;
    }

    void join(List<Thread> threads) {
      for (Thread t : threads) {
        while (t.isAlive()) {
          try {
            t.join();
          } catch (InterruptedException e) {
            failure.compareAndSet(null, new IOException("interrupted while fetching"));
            Thread.currentThread().interrupt();
            return;
          }
        }
      }
    }

    void rethrow() throws IOException {
      Exception e = failure.get();
      if (e instanceof AgentException ae) {
        throw ae;
      }
      if (e instanceof UncheckedIOException u) {
        throw u.getCause();
      }
      if (e instanceof IOException io) {
        throw io;
      }
      if (e instanceof RuntimeException re) {
        throw re;
      }
      if (e != null) {
        throw new AgentException(ErrorCode.INTERNAL, "delta staging failed: " + e, e);
      }
    }

    /**
     * Splits the ranges into requests: at most {@code rangesPerRequest} ranges and {@code
     * maxRangeBytes} bytes each, and at least two requests per connection while there are enough
     * ranges, so that the connections share the work.
     */
    private List<List<DeltaPlan.FetchRange>> requests(List<DeltaPlan.FetchRange> ranges) {
      int perRequest =
          (int)
              Math.max(
                  1,
                  Math.min(
                      tuning.rangesPerRequest(),
                      Math.ceil(ranges.size() / (2.0 * tuning.parallelFetches()))));
      List<List<DeltaPlan.FetchRange>> requests = new ArrayList<>();
      List<DeltaPlan.FetchRange> request = new ArrayList<>();
      long bytes = 0;
      for (DeltaPlan.FetchRange r : ranges) {
        if (!request.isEmpty()
            && (request.size() == perRequest || bytes + r.length() > tuning.maxRangeBytes())) {
          requests.add(request);
          request = new ArrayList<>();
          bytes = 0;
        }
        request.add(r);
        bytes += r.length();
      }
      if (!request.isEmpty()) {
        requests.add(request);
      }
      return requests;
    }

    /**
     * Fetches the ranges of one request: all of them in one answer where the source serves that; a
     * range the answer does not carry, or that follows a broken one, gets its own request.
     */
    private void fetch(List<DeltaPlan.FetchRange> request, byte[] buf) throws IOException {
      List<RangeSource.Span> spans = new ArrayList<>(request.size());
      for (DeltaPlan.FetchRange r : request) {
        spans.add(new RangeSource.Span(r.offset(), r.length()));
      }
      RangeSource.Spans answer = null;
      try {
        try {
          answer = image.readAll(spans);
        } catch (IOException e) {
          LOG.log(
              System.Logger.Level.INFO,
              "a request for " + spans.size() + " ranges failed (" + e + "); one by one");
        }
        for (DeltaPlan.FetchRange r : request) {
          InputStream first = null;
          if (answer != null) {
            try {
              first = answer.next();
            } catch (IOException e) {
              closeQuietly(answer);
              answer = null;
            }
          }
          fetch(r, buf, first);
        }
      } finally {
        if (answer != null) {
          closeQuietly(answer);
        }
      }
    }

    /**
     * Fetches one range chunk by chunk, reading {@code first} if given; a broken stream is
     * re-opened at the current chunk.
     */
    private void fetch(DeltaPlan.FetchRange r, byte[] buf, InputStream first) throws IOException {
      MessageDigest md = Chunker.sha256();
      List<Chunk> chunks = r.chunks();
      int next = 0;
      int attempts = 0;
      InputStream in = first;
      try {
        while (next < chunks.size()) {
          Chunk c = chunks.get(next);
          int got;
          IOException broken = null;
          try {
            if (in == null) {
              in = image.read(c.offset(), r.end() - c.offset());
            }
            got = in.readNBytes(buf, 0, c.length());
          } catch (IOException e) {
            got = -1;
            broken = e;
          }
          if (got >= 0) {
            fetched.addAndGet(got);
          }
          if (got != c.length()) {
            if (in != null) {
              closeQuietly(in);
            }
            in = null;
            if (failure.get() != null) {
              return;
            }
            if (++attempts > tuning.maxResumes()) {
              throw new AgentException(
                  ErrorCode.DOWNLOAD_FAILED,
                  "fetching bytes "
                      + c.offset()
                      + "-"
                      + (r.end() - 1)
                      + " of "
                      + image.describe()
                      + " failed after "
                      + tuning.maxResumes()
                      + " resumes: "
                      + (broken != null
                          ? broken.getMessage()
                          : "the stream ended after " + Math.max(got, 0) + " bytes of a chunk")
                      + "; retry the stage (chunks already written are not fetched again)",
                  broken);
            }
            resumes.incrementAndGet();
            sleep(tuning.resumeBackoff().toMillis() * attempts);
            continue;
          }
          md.update(buf, 0, c.length());
          ChunkId actual = ChunkId.of(md.digest());
          if (!actual.equals(c.id())) {
            throw new AgentException(
                ErrorCode.CHECKSUM_MISMATCH,
                "chunk at bytes "
                    + c.offset()
                    + "-"
                    + (c.end() - 1)
                    + " of "
                    + image.describe()
                    + " hashes to sha256:"
                    + actual
                    + " but the index says sha256:"
                    + c.id()
                    + "; the image on the server does not match its index (corrupt or replaced)."
                    + " The slot is not usable; republish the image and its index together");
          }
          write(c, ByteBuffer.wrap(buf, 0, c.length()));
          report(c.length());
          next++;
        }
      } finally {
        if (in != null) {
          in.close();
        }
      }
    }
  }

  private static void sleep(long millis) throws IOException {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while resuming a range request", e);
    }
  }

  private static void closeQuietly(Closeable in) {
    try {
      in.close();
    } catch (IOException ignored) {
      // the connection is broken already
    }
  }

  private static void log(String format, Object... args) {
    LOG.log(System.Logger.Level.INFO, String.format(format, args));
  }
}
