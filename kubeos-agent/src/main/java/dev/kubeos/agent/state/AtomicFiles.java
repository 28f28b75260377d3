package dev.kubeos.agent.state;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/** Temp file in the same directory, fsync, atomic rename, fsync the directory. */
public final class AtomicFiles {
  private AtomicFiles() {}

  /** Something done to the temp file before the content goes in (its mode, owner, group). */
  @FunctionalInterface
  public interface TempFileSetup {
    void apply(Path tmp) throws IOException;
  }

  public static void write(Path target, byte[] content) throws IOException {
    write(target, content, tmp -> {});
  }

  /** Writes {@code content} to {@code target}, running {@code setup} on the temp file first. */
  public static void write(Path target, byte[] content, TempFileSetup setup) throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp");
    try {
      setup.apply(tmp);
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ByteBuffer buf = ByteBuffer.wrap(content);
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
        ch.force(true);
      }
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    }
  }
}
