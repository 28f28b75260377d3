package dev.kubeos.agent.settings;

import dev.kubeos.agent.state.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * How the engine writes files and /proc/sys values (a seam, so tests can inject failures). The
 * default writes files atomically (temp + fsync + rename + fsync of the directory) keeping the
 * file's mode, owner and group (a new file gets 0644: settings files are world-readable
 * configuration), and /proc/sys values in place, as the kernel requires.
 */
public interface SettingsWriter {
  void writeFile(Path path, String content) throws IOException;

  void deleteFile(Path path) throws IOException;

  void writeProc(Path path, String value) throws IOException;

  /** The mode of a file a settings model creates. */
  Set<PosixFilePermission> NEW_FILE_MODE = PosixFilePermissions.fromString("rw-r--r--");

  SettingsWriter ATOMIC =
      new SettingsWriter() {
        @Override
        public void writeFile(Path path, String content) throws IOException {
          PosixFileAttributes old =
              Files.exists(path, LinkOption.NOFOLLOW_LINKS)
                  ? Files.readAttributes(path, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                  : null;
          AtomicFiles.write(
              path,
              content.getBytes(StandardCharsets.UTF_8),
              tmp -> {
                PosixFileAttributeView view =
                    Files.getFileAttributeView(tmp, PosixFileAttributeView.class);
                if (old != null) {
                  PosixFileAttributes now = view.readAttributes();
                  if (!now.owner().equals(old.owner())) {
                    view.setOwner(old.owner());
                  }
                  if (!now.group().equals(old.group())) {
                    view.setGroup(old.group());
                  }
                }
                view.setPermissions(old != null ? old.permissions() : NEW_FILE_MODE);
              });
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
