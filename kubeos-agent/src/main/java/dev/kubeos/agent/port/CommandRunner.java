package dev.kubeos.agent.port;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

/** Runs host tools (mkfs.ext4, systemctl, ...). */
public interface CommandRunner {

  /** Runs {@code argv} to completion or until {@code timeout}; never throws for a non-zero exit. */
  Result run(List<String> argv, Duration timeout) throws IOException;

  /** Exit status (-1 when killed by the timeout) and the combined output (bounded). */
  record Result(int exitStatus, String output, boolean timedOut) {
    public boolean ok() {
      return exitStatus == 0 && !timedOut;
    }
  }
}
