package dev.kubeos.agent.settings;

import dev.kubeos.agent.state.AtomicFiles;
import dev.kubeos.api.Json;
import dev.kubeos.api.agent.Slot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The previous content of everything a settings version changed, on PERSIST: one JSON file per
 * applied version, {@code <state-dir>/settings/history/NNNNNN-<name>.json}, written atomically
 * before the first change; the name is {@link Versions#fileName} of the version (the version itself
 * when it is a plain token, else a hash: a version is data, never a path), and the record holds the
 * version as given. File paths are stored relative to the root, so a revert re-bases them.
 */
final class SettingsHistory {
  /** One changed target and its content before the version. */
  record Entry(String model, Edit.Kind kind, String path, Slot slot, String before) {}

  /** One applied version. */
  record Record(String version, Instant appliedAt, List<Entry> entries) {}

  /** A stored record and its file. */
  record Stored(Path file, Record record) {}

  private final Path dir;

  SettingsHistory(Path stateDir) {
    this.dir = stateDir.resolve("settings").resolve("history");
  }

  Path save(Record record) throws IOException {
    List<Stored> all = list();
    int seq = all.isEmpty() ? 1 : sequence(all.get(all.size() - 1).file()) + 1;
    Path file =
        dir.resolve(String.format("%06d-%s.json", seq, Versions.fileName(record.version())));
    AtomicFiles.write(
        file, Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(record));
    return file;
  }

  void delete(Path file) throws IOException {
    Files.deleteIfExists(file);
  }

  /** All records, oldest first. */
  List<Stored> list() throws IOException {
    List<Stored> out = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return out;
    }
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f :
          files
              .filter(p -> p.getFileName().toString().matches("\\d{6}-.+\\.json"))
              .sorted()
              .toList()) {
        out.add(new Stored(f, Json.mapper().readValue(f.toFile(), Record.class)));
      }
    }
    return out;
  }

  private static int sequence(Path file) {
    return Integer.parseInt(file.getFileName().toString().substring(0, 6));
  }
}
