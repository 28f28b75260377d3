package dev.kubeos.agent.boot;

import dev.kubeos.agent.port.BootEnvStore;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Objects;

/**
 * The boot environment as files on the ESP: {@code <bootDir>/kubeos/grubenv.0}, {@code grubenv.1}
 * (agent copies) and {@code grubenv.boot} (GRUB's boot record).
 *
 * <p>Each write goes to a temporary file in the same directory, is fsynced, atomically renamed over
 * the target and the directory is fsynced, so a reader sees the old or the new file. The ping-pong
 * of {@link BootEnv} does not rely on this: even a torn copy only loses the write in progress.
 */
public final class FileBootEnvStore implements BootEnvStore {

  /** Directory on the ESP (relative to the boot dir) that holds the environment. */
  public static final String DIR = "kubeos";

  /** File name of the GRUB-owned boot record. */
  public static final String BOOT_RECORD = "grubenv.boot";

  /** Files larger than this are not environment blocks; only this much is read. */
  private static final int MAX_READ = 64 * 1024;

  private final Path dir;

  public FileBootEnvStore(Path bootDir) {
    this.dir = Objects.requireNonNull(bootDir, "bootDir").resolve(DIR);
  }

  /** File name of agent copy {@code index}. */
  public static String copyName(int index) {
    if (index != 0 && index != 1) {
      throw new IllegalArgumentException("boot environment copy index must be 0 or 1: " + index);
    }
    return "grubenv." + index;
  }

  /** The directory holding the files ({@code <bootDir>/kubeos}). */
  public Path directory() {
    return dir;
  }

  @Override
  public byte[] readCopy(int index) throws IOException {
    return read(dir.resolve(copyName(index)));
  }

  @Override
  public void writeCopy(int index, byte[] block) throws IOException {
    writeAtomically(copyName(index), block);
  }

  @Override
  public byte[] readBootRecord() throws IOException {
    return read(dir.resolve(BOOT_RECORD));
  }

  @Override
  public void writeBootRecord(byte[] block) throws IOException {
    writeAtomically(BOOT_RECORD, block);
  }

  private static byte[] read(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return in.readNBytes(MAX_READ);
    } catch (NoSuchFileException e) {
      return null;
    }
  }

  private void writeAtomically(String name, byte[] block) throws IOException {
    Objects.requireNonNull(block, "block");
    Files.createDirectories(dir);
    Path target = dir.resolve(name);
    // A fixed temp name: a crash leaves at most one stale temp per file, reused next time.
    Path tmp = dir.resolve(name + ".tmp");
    try {
      try (FileChannel ch =
          FileChannel.open(
              tmp,
              StandardOpenOption.CREATE,
              StandardOpenOption.WRITE,
              StandardOpenOption.TRUNCATE_EXISTING)) {
        ByteBuffer buf = ByteBuffer.wrap(block);
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
        ch.force(true);
      }
      try {
        Files.move(
            tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        throw new IOException(
            "the file system of " + dir + " cannot rename atomically; cannot update " + name, e);
      }
    } catch (IOException e) {
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException cleanup) {
        e.addSuppressed(cleanup);
      }
      throw e;
    }
    fsyncDirectory(dir);
  }

  private static void fsyncDirectory(Path directory) throws IOException {
    // Makes the rename durable. Linux allows fsync on a directory opened read-only.
    try (FileChannel ch = FileChannel.open(directory, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }
}
