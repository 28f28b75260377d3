package dev.kubeos.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A process's memory and CPU figures from Linux's /proc, for the benchmarks that start JVMs. */
final class ProcStats {
  private ProcStats() {}

  /** A {@code /proc/PID/status} field in KiB, e.g. {@code VmRSS:} or {@code VmHWM:}. */
  static long statusKiB(long pid, String key) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith(key)) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    throw new IllegalStateException("no " + key + " for " + pid);
  }

  /** utime + stime of the process so far, from /proc/PID/stat (USER_HZ is 100 on Linux). */
  static double cpuSeconds(long pid) throws IOException {
    return ticks(Files.readString(Path.of("/proc/" + pid + "/stat"))) / 100.0;
  }

  /** utime + stime in clock ticks from the text of a {@code stat} file (process or thread). */
  static long ticks(String stat) {
    // the command name in parentheses may hold spaces: fields count from the last ')'
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(f[11]) + Long.parseLong(f[12]);
  }
}
