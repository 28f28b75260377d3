package dev.kubeos.agent.host;

import dev.kubeos.agent.port.CommandRunner;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs host tools as child processes: stdin from /dev/null, stdout and stderr combined and captured
 * up to a bound (the head and the tail are kept), and on timeout the whole process tree is killed.
 */
public final class ProcessCommandRunner implements CommandRunner {
  private final int maxOutputBytes;

  /** Captures at most 64 KiB of output per command. */
  public ProcessCommandRunner() {
    this(64 << 10);
  }

  public ProcessCommandRunner(int maxOutputBytes) {
    if (maxOutputBytes < 64) {
      throw new IllegalArgumentException("maxOutputBytes must be at least 64");
    }
    this.maxOutputBytes = maxOutputBytes;
  }

  @Override
  public Result run(List<String> argv, Duration timeout) throws IOException {
    if (argv.isEmpty()) {
      throw new IllegalArgumentException("empty command line");
    }
    ProcessBuilder pb =
        new ProcessBuilder(argv)
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
