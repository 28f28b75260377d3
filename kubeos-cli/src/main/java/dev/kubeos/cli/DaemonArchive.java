package dev.kubeos.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The daemon's own CDS archive ({@code -XX:+AutoCreateSharedArchive
 * -XX:SharedArchiveFile=/persist/kubeos/agent-VERSION.jsa}, written by the JVM at an idle exit). A
 * file there that is not a dynamic archive is what a power loss during that write leaves (empty, or
 * without its header), and the JVM does not heal it: it warns, starts without any class data
 * sharing (not even the JDK's archive), and never writes a new one, at every start of that OS
 * version. So the daemon removes such a file once it serves: its next start runs on the JDK's
 * archive and writes a good one at its exit.
 */
final class DaemonArchive {
  /** The first four bytes of a dynamic CDS archive (little-endian). */
  static final int DYNAMIC_MAGIC = 0xf00baba8;

  private static final String AUTO = "-XX:+AutoCreateSharedArchive";
  private static final String FILE = "-XX:SharedArchiveFile=";

  private DaemonArchive() {}

  /**
   * The archive {@code jvmArgs} (the JVM's own options, before the jar or main class) have the JVM
   * make and keep, if the file there is not a dynamic CDS archive; empty when the options name
   * none, the file does not exist yet, or it is good.
   */
  static Optional<Path> broken(List<String> jvmArgs) throws IOException {
    if (!jvmArgs.contains(AUTO)) {
      return Optional.empty(); // an archive the JVM only reads is the administrator's
    }
    Path file = null;
    for (String a : jvmArgs) {
      if (a.startsWith(FILE)) {
        file = Path.of(a.substring(FILE.length()));
      }
    }
    if (file == null || !Files.isRegularFile(file)) {
      return Optional.empty();
    }
    byte[] head;
    try (InputStream in = Files.newInputStream(file)) {
      head = in.readNBytes(4);
    }
    boolean good =
        head.length == 4
            && ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN).getInt() == DYNAMIC_MAGIC;
    return good ? Optional.empty() : Optional.of(file);
  }

  /** This JVM's options, from {@code /proc/self/cmdline}; empty where there is none. */
  static List<String> ownJvmArgs() throws IOException {
    Path cmdline = Path.of("/proc/self/cmdline");
    if (!Files.isReadable(cmdline)) {
      return List.of();
    }
    String[] argv = new String(Files.readAllBytes(cmdline), StandardCharsets.UTF_8).split("\0");
    List<String> out = new ArrayList<>();
    for (int i = 1; i < argv.length && argv[i].startsWith("-") && !argv[i].equals("-jar"); i++) {
      out.add(argv[i]);
    }
    return out;
  }

  /**
   * Removes this JVM's broken archive ({@link #broken}) and says so on {@code err}; a failure to
   * look or remove is said too and changes nothing else (the daemon serves either way).
   */
  static void removeIfBroken(PrintStream err) {
    try {
      Optional<Path> bad = broken(ownJvmArgs());
      if (bad.isPresent()) {
        Files.delete(bad.get());
        err.println(
            "kubeos agent: removed "
                + bad.get()
                + ": not a CDS archive (a write cut short, e.g. by a power loss); this start runs"
                + " without class data sharing, the next one writes the archive again at its exit");
      }
    } catch (IOException | RuntimeException e) {
      err.println("kubeos agent: could not check the CDS archive: " + e);
    }
  }
}
