package dev.kubeos.cli.demo;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Host commands for the QEMU demo and its e2e: found on PATH plus the sbin dirs, output kept. */
public final class Host {
  private Host() {}

  /** The executable {@code name} on PATH or in the sbin dirs, or null. */
  public static Path which(String name) {
    if (name.contains("/")) {
      return Files.isExecutable(Path.of(name)) ? Path.of(name) : null;
    }
    String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin";
    for (String d : path.split(":")) {
      if (!d.isEmpty() && Files.isExecutable(Path.of(d, name))) {
        return Path.of(d, name);
      }
    }
    return null;
  }

  /** Runs {@code argv}; returns its output; a non-zero exit is an IOException with the output. */
  public static String run(List<String> argv) throws IOException, InterruptedException {
    Path exe = which(argv.get(0));
    if (exe == null) {
      throw new IOException(argv.get(0) + ": command not found (run scripts/install-deps.sh)");
    }
    List<String> cmd = new java.util.ArrayList<>(argv);
    cmd.set(0, exe.toString());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    int rc = p.waitFor();
    if (rc != 0) {
      throw new IOException(String.join(" ", argv) + " failed (exit " + rc + "): " + out.strip());
    }
    return out;
  }

  /** Whether this process runs as root (uid 0). */
  public static boolean isRoot() {
    return dev.kubeos.image.build.HostTools.isRoot();
  }
}
