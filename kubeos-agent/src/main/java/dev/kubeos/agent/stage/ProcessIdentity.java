package dev.kubeos.agent.stage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Whether this process runs with effective uid 0 (read from /proc/self/status). */
final class ProcessIdentity {
  private ProcessIdentity() {}

  static boolean isRoot() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("Uid:")) {
          String[] f = line.substring(4).trim().split("\\s+");
          return f.length > 1 && f[1].equals("0");
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux: assume unprivileged
    }
    return false;
  }
}
