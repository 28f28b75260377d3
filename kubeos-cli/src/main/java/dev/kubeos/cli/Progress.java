package dev.kubeos.cli;

import dev.kubeos.agent.stage.ProgressListener;
import java.io.PrintWriter;

/** Renders staging progress on stderr, at most twice a second. */
final class Progress implements ProgressListener {
  private final PrintWriter err;
  private final String label;
  private final long start = System.nanoTime();
  private long lastPrint;
  private boolean printed;

  Progress(PrintWriter err, String label) {
    this.err = err;
    this.label = label;
  }

  @Override
  public synchronized void progress(long done, long total) {
    long now = System.nanoTime();
    if (now - lastPrint < 500_000_000L) {
      return;
    }
    lastPrint = now;
    double seconds = Math.max(1e-3, (now - start) / 1e9);
    double mib = done / 1048576.0;
    String of =
        total > 0 ? String.format(" / %.0f MiB (%d%%)", total / 1048576.0, done * 100 / total) : "";
    err.printf("\r%s: %.0f MiB%s, %.0f MiB/s   ", label, mib, of, mib / seconds);
    err.flush();
    printed = true;
  }

  synchronized void done() {
    if (printed) {
      err.println();
      err.flush();
    }
  }
}
