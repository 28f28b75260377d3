package dev.kubeos.agent.delta;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.chunk.Chunk;
import dev.kubeos.formats.chunk.ChunkId;
import dev.kubeos.formats.chunk.Chunker;
import dev.kubeos.formats.chunk.DeltaPlan;
import dev.kubeos.oci.source.RangeSource;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Fetches the chunks a node lacks: coalesced range requests on a few parallel connections, each
 * fetched chunk's SHA-256 checked before it is written; a broken connection is resumed at the chunk
 * it broke in. No thread is ever interrupted (that would close the slot's FileChannel).
 */
final class RangeFetcher {
  private static final System.Logger LOG = System.getLogger("kubeos.agent");

  private final RangeSource image;
  private final DeltaStager.Tuning tuning;
  private final SlotAssembly slot;
  private final List<Thread> threads = new ArrayList<>();

  private RangeFetcher(RangeSource image, DeltaStager.Tuning tuning, SlotAssembly slot) {
    this.image = image;
    this.tuning = tuning;
    this.slot = slot;
  }

  /** Starts fetching {@code ranges} of {@code image} into {@code slot} on background threads. */
  static RangeFetcher start(
      RangeSource image,
      List<DeltaPlan.FetchRange> ranges,
      DeltaStager.Tuning tuning,
      SlotAssembly slot) {
    RangeFetcher fetcher = new RangeFetcher(image, tuning, slot);
    fetcher.startThreads(ranges);
    return fetcher;
  }

  private void startThreads(List<DeltaPlan.FetchRange> ranges) {
    List<List<DeltaPlan.FetchRange>> requests = requests(ranges);
    Queue<List<DeltaPlan.FetchRange>> queue = new ConcurrentLinkedQueue<>(requests);
    int n = Math.min(tuning.parallelFetches(), requests.size());
    for (int i = 0; i < n; i++) {
      Thread t =
          new Thread(
              () -> {
                try {
                  byte[] buf = new byte[maxLength(ranges)];
                  for (List<DeltaPlan.FetchRange> r = queue.poll();
                      r != null && !slot.failed();
                      r = queue.poll()) {
                    fetch(r, buf);
                  }
                } catch (Exception e) {
                  slot.fail(e);
                }
              },
              "delta-fetch-" + i);
      t.setDaemon(true);
      t.start();
      threads.add(t);
    }
  }

  /** Waits for every fetch thread to end (an interrupt of the caller is recorded as a failure). */
  void join() {
    for (Thread t : threads) {
      while (t.isAlive()) {
        try {
          t.join();
        } catch (InterruptedException e) {
          slot.fail(new IOException("interrupted while fetching"));
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  private static int maxLength(List<DeltaPlan.FetchRange> ranges) {
    int max = 1;
    for (DeltaPlan.FetchRange r : ranges) {
      for (Chunk c : r.chunks()) {
        max = Math.max(max, c.length());
      }
    }
    return max;
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
   * Fetches one range chunk by chunk, reading {@code first} if given; a broken stream is re-opened
   * at the current chunk.
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
          slot.fetched(got);
        }
        if (got != c.length()) {
          if (in != null) {
            closeQuietly(in);
          }
          in = null;
          if (slot.failed()) {
            return;
          }
          if (++attempts > tuning.maxResumes()) {
            throw brokenRange(r, c, got, broken);
          }
          slot.resumed();
          sleep(tuning.resumeBackoff().toMillis() * attempts);
          continue;
        }
        md.update(buf, 0, c.length());
        checkChunk(c, ChunkId.of(md.digest()));
        slot.write(c.offset(), c.length(), ByteBuffer.wrap(buf, 0, c.length()));
        slot.report(c.length());
        next++;
      }
    } finally {
      if (in != null) {
        in.close();
      }
    }
  }

  /** "bytes FROM-LAST of IMAGE", for messages ({@code end} exclusive). */
  private String bytesOf(long from, long end) {
    return "bytes " + from + "-" + (end - 1) + " of " + image.describe();
  }

  private AgentException brokenRange(DeltaPlan.FetchRange r, Chunk c, int got, IOException broken) {
    return new AgentException(
        ErrorCode.DOWNLOAD_FAILED,
        "fetching "
            + bytesOf(c.offset(), r.end())
            + " failed after "
            + tuning.maxResumes()
            + " resumes: "
            + (broken != null
                ? broken.getMessage()
                : "the stream ended after " + Math.max(got, 0) + " bytes of a chunk")
            + "; retry the stage (chunks already written are not fetched again)",
        broken);
  }

  private void checkChunk(Chunk c, ChunkId actual) {
    if (!actual.equals(c.id())) {
      throw new AgentException(
          ErrorCode.CHECKSUM_MISMATCH,
          "chunk at "
              + bytesOf(c.offset(), c.end())
              + " hashes to sha256:"
              + actual
              + " but the index says sha256:"
              + c.id()
              + "; the image on the server does not match its index (corrupt or replaced)."
              + " The slot is not usable; republish the image and its index together");
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
}
