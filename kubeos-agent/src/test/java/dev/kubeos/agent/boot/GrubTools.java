package dev.kubeos.agent.boot;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the real GRUB user-space tools (package grub-common) for cross-checks in ITs. */
final class GrubTools {

  record Result(int exit, String out, String err) {}

  private GrubTools() {}

  static Result run(String... command) throws IOException, InterruptedException {
    Process p;
    try {
      p =
          new ProcessBuilder(command)
              .redirectInput(ProcessBuilder.Redirect.from(nullFile()))
              .start();
    } catch (IOException e) {
      throw new IOException(
          command[0]
              + " is not installed; run scripts/install-deps.sh (Debian package grub-common)",
          e);
    }
    byte[] out = p.getInputStream().readAllBytes();
    byte[] err = p.getErrorStream().readAllBytes();
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException(command[0] + " did not finish within 30 s");
    }
    return new Result(
        p.exitValue(),
        new String(out, StandardCharsets.UTF_8),
        new String(err, StandardCharsets.UTF_8));
  }

  /** {@code grub-editenv FILE ARGS...}, failing the test when it exits non-zero. */
  static String editenv(Path file, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("grub-editenv", file.toString()));
    cmd.addAll(List.of(args));
    Result r = run(cmd.toArray(String[]::new));
    if (r.exit() != 0) {
      throw new AssertionError("grub-editenv " + cmd + " failed (" + r.exit() + "): " + r.err());
    }
    return r.out();
  }

  private static java.io.File nullFile() {
    return new java.io.File("/dev/null");
  }
}
