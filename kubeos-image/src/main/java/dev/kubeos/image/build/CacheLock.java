package dev.kubeos.image.build;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Runs work that fills a shared cache entry (the builder's rootfs cache, the demo's agent runtime)
 * one at a time per lock file, across threads and processes: a POSIX record lock on the file (what
 * another process sees), held under a lock of this JVM (the JDK refuses a second record lock on the
 * same file from one process). The lock file stays; it is empty.
 */
public final class CacheLock {
  private static final ConcurrentHashMap<Path, ReentrantLock> IN_JVM = new ConcurrentHashMap<>();

  /** The work done under the lock. */
  public interface Work<T> {
    T run() throws IOException, InterruptedException;
  }

  private CacheLock() {}

  /** Runs {@code work} holding {@code lockFile} (created if missing), waiting for it if held. */
  public static <T> T with(Path lockFile, Work<T> work) throws IOException, InterruptedException {
    Path key = lockFile.toAbsolutePath().normalize();
    ReentrantLock local = IN_JVM.computeIfAbsent(key, k -> new ReentrantLock());
    local.lockInterruptibly();
    try {
      Files.createDirectories(key.getParent());
      try (FileChannel ch =
          FileChannel.open(key, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
        FileLock held = ch.lock();
        try {
          return work.run();
        } finally {
          held.release();
        }
      }
    } finally {
      local.unlock();
    }
  }
}
