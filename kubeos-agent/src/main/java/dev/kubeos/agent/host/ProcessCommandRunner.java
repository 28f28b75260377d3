package dev.kubeos.agent.host;

import dev.kubeos.agent.port.CommandRunner;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs host tools as child processes: stdin from /dev/null, stdout and stderr combined and captured
 * up to a bound (the head and the tail are kept), and on timeout the whole process tree is killed.
 *
 * <p>Children die with the agent: each runs under {@code setpriv --pdeathsig KILL} (util-linux), so
 * the kernel kills it when the agent is killed (an {@code mkfs.ext4} must not keep writing a slot
 * after its agent is gone). The death signal follows the thread that started the child, which waits
 * in {@link #run} for as long as the child lives. Where setpriv is missing, children run without
 * it.
 */
public final class ProcessCommandRunner implements CommandRunner {
  private static final List<Path> SETPRIV =
      List.of(Path.of("/usr/bin/setpriv"), Path.of("/bin/setpriv"));

  private final int maxOutputBytes;
  private final List<String> prefix;

  /** Captures at most 64 KiB of output per command. */
  public ProcessCommandRunner() {
    this(64 << 10);
  }

  public ProcessCommandRunner(int maxOutputBytes) {
    if (maxOutputBytes < 64) {
      throw new IllegalArgumentException("maxOutputBytes must be at least 64");
    }
    this.maxOutputBytes = maxOutputBytes;
    this.prefix =
        SETPRIV.stream()
            .filter(Files::isExecutable)
            .findFirst()
            .map(p -> List.of(p.toString(), "--pdeathsig", "KILL", "--"))
            .orElse(List.of());
  }

  /** True when children are tied to the agent's life (setpriv found). */
  public boolean childrenDieWithTheAgent() {
    return !prefix.isEmpty();
  }

  @Override
  public Result run(List<String> argv, Duration timeout) throws IOException {
    if (argv.isEmpty()) {
      throw new IllegalArgumentException("empty command line");
    }
    ProcessBuilder pb =
        new ProcessBuilder(withDeathSignal(argv))
            .redirectErrorStream(true)
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    Process p = pb.start();
    BoundedCapture capture = new BoundedCapture(p.getInputStream(), maxOutputBytes);
    Thread reader = new Thread(capture, "output-of-" + new File(argv.get(0)).getName());
    reader.setDaemon(true);
    reader.start();
    boolean timedOut = false;
    try {
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        timedOut = true;
        killTree(p.toHandle());
        p.waitFor(10, TimeUnit.SECONDS);
      }
      reader.join(5000);
    } catch (InterruptedException e) {
      killTree(p.toHandle());
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while running " + argv.get(0), e);
    }
    String out = capture.text();
    if (timedOut) {
      out += "\n[killed after " + timeout.toSeconds() + " s]";
    }
    return new Result(timedOut ? -1 : p.exitValue(), out, timedOut);
  }

  private static boolean resolvable(String program) {
    if (program.contains("/")) {
      return Files.isExecutable(Path.of(program));
    }
    String path = System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    for (String dir : path.split(":")) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
        return true;
      }
    }
    return false;
  }

  private List<String> withDeathSignal(List<String> argv) throws IOException {
    if (prefix.isEmpty()) {
      return argv;
    }
    // as without setpriv, a missing program is an IOException here, not an exit status of setpriv
    if (!resolvable(argv.get(0))) {
      throw new IOException(
          "Cannot run program \"" + argv.get(0) + "\": not found or not executable");
    }
    List<String> all = new ArrayList<>(prefix.size() + argv.size());
    all.addAll(prefix);
    all.addAll(argv);
    return all;
  }

  /** Kills the descendants first (collected before the parent dies and they are re-parented). */
  private static void killTree(ProcessHandle h) {
    List<ProcessHandle> kids = h.descendants().toList();
    h.destroyForcibly();
    kids.forEach(ProcessHandle::destroyForcibly);
  }

  /** Keeps the first and the last {@code max/2} bytes of a stream. */
  private static final class BoundedCapture implements Runnable {
    private final InputStream in;
    private final int half;
    private final ByteArrayOutputStream head = new ByteArrayOutputStream();
    private final byte[] tail;
    private long tailWritten;
    private long total;

    BoundedCapture(InputStream in, int max) {
      this.in = in;
      this.half = max / 2;
      this.tail = new byte[max - half];
    }

    @Override
    public void run() {
      byte[] buf = new byte[8192];
      try (in) {
        for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
          synchronized (this) {
            for (int i = 0; i < n; i++) {
              if (head.size() < half) {
                head.write(buf[i]);
              } else {
                tail[(int) (tailWritten++ % tail.length)] = buf[i];
              }
            }
            total += n;
          }
        }
      } catch (IOException ignored) {
        // the process went away
      }
    }

    synchronized String text() {
      StringBuilder sb = new StringBuilder(head.toString(StandardCharsets.UTF_8));
      if (tailWritten > 0) {
        int len = (int) Math.min(tailWritten, tail.length);
        byte[] t = new byte[len];
        int start = (int) ((tailWritten - len) % tail.length);
        for (int i = 0; i < len; i++) {
          t[i] = tail[(start + i) % tail.length];
        }
        if (tailWritten > tail.length) {
          sb.append("\n[... ").append(total - half - len).append(" bytes omitted ...]\n");
        }
        sb.append(new String(t, StandardCharsets.UTF_8));
      }
      return sb.toString();
    }
  }
}
