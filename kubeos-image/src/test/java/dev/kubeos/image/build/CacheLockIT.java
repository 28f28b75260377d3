package dev.kubeos.image.build;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Work under a {@link CacheLock} runs one at a time: a second thread of this JVM waits, and another
 * process cannot take the same lock file's record lock (python3's {@code fcntl.lockf}, the kind the
 * JDK takes) until the work is done.
 */
class CacheLockIT {
  @TempDir Path dir;

  @Test
  void workUnderTheSameLockFileRunsOneAtATimeAcrossThreadsAndProcesses() throws Exception {
    Path lock = dir.resolve("cache/.entry.lock");
    CountDownLatch firstIn = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch secondIn = new CountDownLatch(1);
    CompletableFuture<String> first =
        CompletableFuture.supplyAsync(
            () ->
                call(
                    lock,
                    () -> {
                      firstIn.countDown();
                      assertThat(release.await(1, TimeUnit.MINUTES)).isTrue();
                      return "first";
                    }));
    assertThat(firstIn.await(1, TimeUnit.MINUTES)).isTrue();
    CompletableFuture<String> second =
        CompletableFuture.supplyAsync(
            () ->
                call(
                    lock,
                    () -> {
                      secondIn.countDown();
                      return "second";
                    }));

    // held: the other thread has not entered, another process cannot take the lock
    assertThat(secondIn.await(300, TimeUnit.MILLISECONDS)).isFalse();
    assertThat(otherProcessLocks(lock)).as("another process while it is held").isNotZero();

    release.countDown();
    assertThat(first.get(1, TimeUnit.MINUTES)).isEqualTo("first");
    assertThat(second.get(1, TimeUnit.MINUTES)).isEqualTo("second");
    assertThat(otherProcessLocks(lock)).as("another process once it is free").isZero();
  }

  private static String call(Path lock, CacheLock.Work<String> work) {
    try {
      return CacheLock.with(lock, work);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** The exit status of a process that tries to take the lock without waiting (0: it got it). */
  private static int otherProcessLocks(Path lock) throws Exception {
    Process p =
        new ProcessBuilder(
                List.of(
                    "python3",
                    "-c",
                    "import fcntl, sys\n"
                        + "f = open(sys.argv[1], 'a')\n"
                        + "try:\n"
                        + "    fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
                        + "except OSError:\n"
                        + "    sys.exit(3)\n",
                    lock.toString()))
            .inheritIO()
            .start();
    assertThat(p.waitFor(1, TimeUnit.MINUTES)).isTrue();
    return p.exitValue();
  }
}
