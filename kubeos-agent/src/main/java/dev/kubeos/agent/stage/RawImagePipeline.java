package dev.kubeos.agent.stage;

import dev.kubeos.agent.port.BlockDevice;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.api.agent.IoFailure;
import dev.kubeos.oci.http.ResumingInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The threads of one {@link RawImageWriter#write} call. No thread is ever interrupted (an interrupt
 * would close the slot's FileChannel); they poll and stop when {@link #failure} is set.
 */
final class RawImagePipeline {
  private static final long PROGRESS_NANOS = 250_000_000L;
  private static final System.Logger LOG = System.getLogger("kubeos.agent");

  /** The fewest ring buffers that keep reader, hasher and writer busy at once. */
  static final int MIN_RING = 3;

  /** One ring buffer and the payload region it holds. */
  private static final class Chunk {
    final ByteBuffer buf;
    long offset;
    int length;
    final AtomicInteger pending = new AtomicInteger();

    Chunk(ByteBuffer buf) {
      this.buf = buf;
    }

    ByteBuffer view() {
      return buf.duplicate().position(0).limit(length);
    }
  }

  private static final Chunk END = new Chunk(ByteBuffer.allocate(0));

  private final RawImageWriter.Tuning tuning;
  private final ResumingInputStream in;
  private final long total;
  private final MessageDigest md;
  private final BlockDevice slot;
  private final long slotSize;
  private final String what;
  private final ProgressListener progress;
  private final BlockingQueue<Chunk> free;
  private final BlockingQueue<Chunk> toHash;
  private final BlockingQueue<Chunk> toWrite;
  private final BlockingQueue<Chunk> toVerify;
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private final ByteBuffer back;
  private final int ringChunks;
  private final long syncEveryBytes;
  private volatile long received;

  RawImagePipeline(
      RawImageWriter.Tuning tuning,
      ResumingInputStream in,
      long total,
      MessageDigest md,
      BlockDevice slot,
      long slotSize,
      String what,
      ProgressListener progress) {
    this.tuning = tuning;
    this.in = in;
    this.total = total;
    this.md = md;
    this.slot = slot;
    this.slotSize = slotSize;
    this.what = what;
    this.progress = progress;
    int n = tuning.ringChunks();
    free = new ArrayBlockingQueue<>(n);
    toHash = new ArrayBlockingQueue<>(n + 1);
    toWrite = new ArrayBlockingQueue<>(n + 1);
    toVerify = new ArrayBlockingQueue<>(n + 1);
    // The read-back buffer first, then as many ring buffers as the JVM's direct-memory limit
    // (-XX:MaxDirectMemorySize) allows: a smaller ring syncs more often instead of failing.
    this.back = allocateDirect(tuning.chunkBytes() + 4096, what).alignedSlice(4096);
    try {
      for (int i = 0; i < n; i++) {
        free.add(new Chunk(ByteBuffer.allocateDirect(tuning.chunkBytes())));
      }
    } catch (OutOfMemoryError e) {
      if (free.size() < MIN_RING) {
        throw new AgentException(
            ErrorCode.BUSY,
            "staging "
                + what
                + " needs at least "
                + (MIN_RING * (long) tuning.chunkBytes() >> 20)
                + " MiB of direct memory for its buffers, the JVM gave "
                + (free.size() * (long) tuning.chunkBytes() >> 20)
                + " MiB (-XX:MaxDirectMemorySize): "
                + e.getMessage(),
            e);
      }
      LOG.log(
          System.Logger.Level.WARNING,
          "staging {0}: direct memory for {1} of {2} ring buffers only ({3}); syncing every {4}"
              + " bytes instead of {5}",
          what,
          free.size(),
          n,
          e.getMessage(),
          (free.size() - 2) * (long) tuning.chunkBytes(),
          tuning.syncEveryBytes());
    }
    this.ringChunks = free.size();
    // the writer holds the chunks written since the last sync: at most the ring less two, so that
    // the reader and the hasher always have one each and the pipeline cannot stall
    this.syncEveryBytes =
        Math.min(tuning.syncEveryBytes(), (ringChunks - 2L) * tuning.chunkBytes());
  }

  private static ByteBuffer allocateDirect(int bytes, String what) {
    try {
      return ByteBuffer.allocateDirect(bytes);
    } catch (OutOfMemoryError e) {
      throw new AgentException(
          ErrorCode.BUSY,
          "staging "
              + what
              + ": no direct memory for a "
              + bytes
              + "-byte buffer: "
              + e.getMessage(),
          e);
    }
  }

  /** Runs the pipeline to the end; returns the payload length. */
  long run() throws IOException {
    CountDownLatch workersDone = new CountDownLatch(3);
    Thread reader = start("reader", this::readLoop, null);
    List<Thread> workers =
        List.of(
            start("hasher", this::hashLoop, workersDone),
            start("writer", this::writeLoop, workersDone),
            start("verifier", this::verifyLoop, workersDone));
    try {
      while (!workersDone.await(100, TimeUnit.MILLISECONDS)) {
        if (failure.get() != null) {
          try {
            in.close(); // unblocks a reader waiting on the network
          } catch (IOException ignored) {
            // closing a broken stream
          }
          workersDone.await();
          break;
        }
      }
      reader.join(failure.get() == null ? 0 : 2000);
      // the workers have counted down and are ending: once they have, nothing holds the ring, and
      // the collection at the end of RawImageWriter.write can free it
      for (Thread w : workers) {
        w.join(2000);
      }
    } catch (InterruptedException e) {
      failure.compareAndSet(null, e);
      Thread.currentThread().interrupt();
    }
    Throwable t = failure.get();
    if (t instanceof AgentException ae) {
      throw ae;
    } else if (t instanceof IOException io) {
      throw io;
    } else if (t != null) {
      throw new AgentException(ErrorCode.INTERNAL, "staging " + what + " failed: " + t, t);
    }
    return received;
  }

  private interface Body {
    void run() throws Exception;
  }

  private Thread start(String name, Body body, CountDownLatch done) {
    Thread t =
        new Thread(
            () -> {
              try {
                body.run();
              } catch (Throwable e) {
                failure.compareAndSet(null, e);
              } finally {
                if (done != null) {
                  done.countDown();
                }
              }
            },
            "stage-" + name);
    t.setDaemon(true);
    t.start();
    return t;
  }

  private Chunk take(BlockingQueue<Chunk> q) throws InterruptedException {
    while (true) {
      Chunk c = q.poll(50, TimeUnit.MILLISECONDS);
      if (c != null) {
        return c;
      }
      if (failure.get() != null) {
        return END;
      }
    }
  }

  private void release(Chunk c) {
    if (c.pending.decrementAndGet() == 0) {
      free.add(c);
    }
  }

  private void readLoop() throws Exception {
    byte[] stage = new byte[256 << 10];
    long offset = 0;
    boolean eof = false;
    while (!eof && failure.get() == null) {
      Chunk c = take(free);
      if (c == END) {
        return;
      }
      ByteBuffer b = c.buf.clear();
      while (b.hasRemaining()) {
        int n = in.read(stage, 0, Math.min(stage.length, b.remaining()));
        if (n < 0) {
          eof = true;
          break;
        }
        b.put(stage, 0, n);
      }
      c.offset = offset;
      c.length = b.position();
      if (c.length == 0) {
        break;
      }
      if (offset + c.length > slotSize) {
        throw new AgentException(
            ErrorCode.PAYLOAD_TOO_LARGE,
            what
                + " did not announce its length and exceeds the target slot of "
                + slotSize
                + " bytes; stopped before writing past the slot (the slot holds a partial image"
                + " now). Use a smaller image or a larger slot");
      }
      offset += c.length;
      received = offset;
      c.pending.set(2); // hashed + verified
      toHash.put(c);
      toWrite.put(c);
    }
    toHash.put(END);
    toWrite.put(END);
  }

  private void hashLoop() throws Exception {
    for (Chunk c = take(toHash); c != END; c = take(toHash)) {
      md.update(c.view());
      release(c);
    }
  }

  private void writeLoop() throws Exception {
    List<Chunk> unsynced = new ArrayList<>();
    long sinceSync = 0;
    long lastReport = 0;
    for (Chunk c = take(toWrite); ; c = take(toWrite)) {
      if (c == END && failure.get() != null) {
        return;
      }
      if (c != END) {
        try {
          slot.write(c.offset, c.view());
        } catch (IOException e) {
          throw IoFailure.of(
              "writing " + c.length + " bytes to the slot at offset " + c.offset + " failed",
              "the target slot",
              e);
        }
        unsynced.add(c);
        sinceSync += c.length;
      }
      if (!unsynced.isEmpty() && (c == END || sinceSync >= syncEveryBytes)) {
        try {
          slot.sync();
        } catch (IOException e) {
          throw IoFailure.of("syncing the slot failed", "the target slot", e);
        }
        for (Chunk s : unsynced) {
          toVerify.put(s);
        }
        unsynced.clear();
        sinceSync = 0;
        long now = System.nanoTime();
        if (c != END && now - lastReport >= PROGRESS_NANOS) {
          lastReport = now;
          progress.progress(c.offset + c.length, total);
        }
      }
      if (c == END) {
        toVerify.put(END);
        return;
      }
    }
  }

  private void verifyLoop() throws Exception {
    for (Chunk c = take(toVerify); c != END; c = take(toVerify)) {
      back.clear().limit(c.length);
      try {
        slot.readUncached(c.offset, back);
      } catch (IOException e) {
        throw new AgentException(
            ErrorCode.VERIFY_FAILED,
            "reading back " + c.length + " bytes at slot offset " + c.offset + " failed: " + e,
            e);
      }
      back.flip();
      int at = c.view().mismatch(back);
      if (at >= 0) {
        throw new AgentException(
            ErrorCode.VERIFY_FAILED,
            "read-back of the slot differs from the downloaded bytes at offset "
                + (c.offset + at)
                + "; the medium did not store what was written (failing disk?). Retry the"
                + " upgrade; if it repeats, check the disk");
      }
      release(c);
    }
  }
}
