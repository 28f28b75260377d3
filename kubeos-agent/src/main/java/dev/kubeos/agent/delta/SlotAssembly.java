package dev.kubeos.agent.delta;

import dev.kubeos.agent.port.BlockDevice;
import dev.kubeos.agent.stage.ProgressListener;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.api.agent.IoFailure;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The slot one delta stage assembles, shared by its writers (the local chunk writer and the range
 * fetchers): writes into the slot, progress, byte counts, and the first failure of any writer,
 * which stops the others.
 */
final class SlotAssembly {
  private static final long REPORT_NANOS = 250_000_000L;

  private final BlockDevice target;
  private final long size;
  private final ProgressListener progress;
  private final AtomicReference<Exception> failure = new AtomicReference<>();
  private final AtomicLong fetched = new AtomicLong();
  private final AtomicLong done = new AtomicLong();
  private final AtomicInteger resumes = new AtomicInteger();
  private volatile long lastReport;

  /**
   * @param size image size, the total of the progress reports
   * @param inPlaceBytes bytes the slot already holds (counted as done)
   */
  SlotAssembly(BlockDevice target, long size, ProgressListener progress, long inPlaceBytes) {
    this.target = target;
    this.size = size;
    this.progress = progress;
    done.set(inPlaceBytes);
  }

  /** Writes {@code length} bytes at {@code offset} of the slot. */
  void write(long offset, long length, ByteBuffer bytes) throws IOException {
    try {
      target.write(offset, bytes);
    } catch (IOException e) {
      throw IoFailure.of(
          "writing " + length + " bytes to the slot at offset " + offset + " failed",
          "the target slot",
          e);
    }
  }

  /** Counts {@code bytes} as done and reports progress, at most four times a second. */
  void report(long bytes) {
    long d = done.addAndGet(bytes);
    long now = System.nanoTime();
    if (now - lastReport > REPORT_NANOS) {
      lastReport = now;
      progress.progress(d, size);
    }
  }

  void fetched(long bytes) {
    fetched.addAndGet(bytes);
  }

  long fetchedBytes() {
    return fetched.get();
  }

  void resumed() {
    resumes.incrementAndGet();
  }

  int resumes() {
    return resumes.get();
  }

  /** Records the first failure; every writer stops at its next step. */
  void fail(Exception e) {
    failure.compareAndSet(null, e);
  }

  boolean failed() {
    return failure.get() != null;
  }

  /** Throws the first failure, if any writer failed. */
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
}
