package dev.kubeos.image.build;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Runs host commands for the build, appending their output to {@code build.log}; a failure becomes
 * an {@link AgentException} (IO_ERROR) quoting the command and the end of its output.
 */
public final class Exec {
  private final Path log;

  public Exec(Path log) {
    this.log = log;
  }

  public Path log() {
    return log;
  }

  /** Runs {@code argv}; throws when it exits non-zero. */
  public void run(List<String> argv) {
    run(argv, Map.of(), null);
  }

  /** Runs {@code argv} with extra environment variables, optionally with stdout to a file. */
  public void run(List<String> argv, Map<String, String> env, Path stdout) {
    try {
      Files.createDirectories(log.getParent());
      Files.writeString(
          log,
          "$ " + String.join(" ", argv) + "\n",
          StandardCharsets.UTF_8,
          java.nio.file.StandardOpenOption.CREATE,
          java.nio.file.StandardOpenOption.APPEND);
      long before = Files.size(log);
      ProcessBuilder pb = new ProcessBuilder(argv);
      pb.environment().putAll(env);
      pb.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
      if (stdout != null) {
        pb.redirectOutput(stdout.toFile());
        pb.redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
      } else {
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      }
      int rc = pb.start().waitFor();
      if (rc != 0) {
        throw new AgentException(
            ErrorCode.IO_ERROR,
            String.join(" ", argv)
                + " exited with status "
                + rc
                + ": "
                + tail(before)
                + " (full output in "
                + log
                + ")");
      }
    } catch (IOException e) {
      throw new AgentException(
          ErrorCode.IO_ERROR, "cannot run " + argv.get(0) + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AgentException(ErrorCode.INTERNAL, "interrupted while running " + argv.get(0), e);
    }
  }

  private String tail(long from) throws IOException {
    byte[] all = Files.readAllBytes(log);
    int start = (int) Math.max(from, all.length - 1500L);
    return new String(all, start, all.length - start, StandardCharsets.UTF_8).strip();
  }
}
