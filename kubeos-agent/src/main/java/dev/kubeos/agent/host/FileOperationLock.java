package dev.kubeos.agent.host;

import dev.kubeos.agent.port.OperationLock;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;

/**
 * Exclusive operations across processes (the daemon and a CLI call) with an advisory lock on {@code
 * <state-dir>/agent.lock}, and across threads of one process with a lock in memory. The holder
 * writes what it does into the file so that a BUSY answer can say it.
 */
public final class FileOperationLock implements OperationLock {
  /** One permit per lock file: threads of this process (not reentrant, unlike file locks). */
  private static final Map<Path, Semaphore> IN_PROCESS = new ConcurrentHashMap<>();

  private final Path file;
  private final Clock clock;
  private final Semaphore permit;

  public FileOperationLock(Path stateDir, Clock clock) {
    this.file = stateDir.toAbsolutePath().normalize().resolve("agent.lock");
    this.clock = clock;
    this.permit = IN_PROCESS.computeIfAbsent(file, f -> new Semaphore(1));
  }

  @Override
  public Held acquire(String operation) {
    if (!permit.tryAcquire()) {
      throw busy();
    }
    try {
      Files.createDirectories(file.getParent());
      FileChannel ch =
          FileChannel.open(
              file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
      FileLock lock = ch.tryLock();
      if (lock == null) {
        ch.close();
        throw busy();
      }
      String holder =
          operation
              + " (pid "
              + ProcessHandle.current().pid()
              + ", since "
              + clock.instant()
              + ")\n";
      ch.truncate(0);
      ch.write(ByteBuffer.wrap(holder.getBytes(StandardCharsets.UTF_8)), 0);
      return () -> {
        try {
          ch.truncate(0);
          lock.release();
          ch.close();
        } catch (IOException e) {
          // closing the channel releases the lock in any case
        } finally {
          permit.release();
        }
      };
    } catch (IOException e) {
      permit.release();
      throw new AgentException(
          ErrorCode.IO_ERROR, "cannot take the agent lock " + file + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      permit.release();
      throw e;
    }
  }

  private AgentException busy() {
    String holder;
    try {
      holder = Files.readString(file).strip();
    } catch (IOException e) {
      holder = "";
    }
    return new AgentException(
        ErrorCode.BUSY,
        "another agent operation is running"
            + (holder.isEmpty() ? "" : ": " + holder)
            + "; retry when it has finished");
  }
}
