package dev.kubeos.agent.stage;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** The mounts this process sees, from {@code /proc/self/mountinfo}. */
final class MountTable {
  private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");

  private MountTable() {}

  /**
   * One mount.
   *
   * @param mountPoint where it is mounted (octal escapes undone)
   * @param options its per-mount options ({@code rw}, {@code nosuid}, {@code nodev}, ...)
   */
  record Mount(String mountPoint, Set<String> options) {}

  /** The mounts of this process, in mount order (a later mount covers an earlier one). */
  static List<Mount> read() throws IOException {
    return parse(Files.readString(MOUNTINFO, StandardCharsets.UTF_8));
  }

  /** Parses mountinfo text (proc(5)): field 5 is the mount point, field 6 the mount options. */
  static List<Mount> parse(String mountinfo) {
    List<Mount> mounts = new ArrayList<>();
    for (String line : mountinfo.split("\n")) {
      String[] f = line.split(" ");
      if (f.length < 6) {
        continue;
      }
      mounts.add(new Mount(unescape(f[4]), Set.of(f[5].split(","))));
    }
    return mounts;
  }

  /** The topmost mount at exactly {@code path}, or null. */
  static Mount at(List<Mount> mounts, Path path) {
    String p = path.toString();
    Mount found = null;
    for (Mount m : mounts) {
      if (m.mountPoint().equals(p)) {
        found = m;
      }
    }
    return found;
  }

  /** Mount points at or below {@code dir}, the most recently mounted first. */
  static List<String> under(List<Mount> mounts, Path dir) {
    String d = dir.toString();
    List<String> out = new ArrayList<>();
    for (int i = mounts.size() - 1; i >= 0; i--) {
      String m = mounts.get(i).mountPoint();
      if (m.equals(d) || m.startsWith(d.endsWith("/") ? d : d + "/")) {
        out.add(m);
      }
    }
    return out;
  }

  /** Undoes the kernel's octal escapes ({@code \040} for a space, ...). */
  static String unescape(String s) {
    if (s.indexOf('\\') < 0) {
      return s;
    }
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && isOctal(s, i + 1)) {
        sb.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
        i += 3;
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }

  private static boolean isOctal(String s, int from) {
    if (from + 3 > s.length()) {
      return false;
    }
    for (int i = from; i < from + 3; i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '7') {
        return false;
      }
    }
    return true;
  }
}
