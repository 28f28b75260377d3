package dev.kubeos.agent.stage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Facts about this process's mounts, read straight from /proc/self/mountinfo (for tests). */
final class MountFacts {
  private MountFacts() {}

  /** The options of the topmost mount at {@code path}, or null when nothing is mounted there. */
  static List<String> optionsAt(Path path) throws IOException {
    List<String> found = null;
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      String[] f = line.split(" ");
      if (f[4].equals(path.toString())) {
        found = List.of(f[5].split(","));
      }
    }
    return found;
  }

  /** Whether anything is mounted at {@code dir} or below it. */
  static boolean anyAtOrBelow(Path dir) throws IOException {
    return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
        .map(l -> l.split(" ")[4])
        .anyMatch(m -> m.equals(dir.toString()) || m.startsWith(dir + "/"));
  }
}
