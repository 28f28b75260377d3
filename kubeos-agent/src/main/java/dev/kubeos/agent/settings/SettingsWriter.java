package dev.kubeos.agent.settings;

import dev.kubeos.agent.state.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * How the engine writes files and /proc/sys values (a seam, so tests can inject failures). The
 * default writes files atomically (temp + fsync + rename + fsync of the directory) and /proc/sys
 * values in place, as the kernel requires.
 */
public interface SettingsWriter {
  void writeFile(Path path, String content) throws IOException;

  void deleteFile(Path path) throws IOException;

  void writeProc(Path path, String value) throws IOException;

  SettingsWriter ATOMIC =
      new SettingsWriter() {
        @Override
        public void writeFile(Path path, String content) throws IOException {
          AtomicFiles.write(path, content.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public void deleteFile(Path path) throws IOException {
          Files.deleteIfExists(path);
        }

        @Override
        public void writeProc(Path path, String value) throws IOException {
          Files.writeString(
              path, value, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
        }
      };
}
