package dev.kubeos.cli.demo;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kubeos.api.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Jobs for the probe unit inside a demo/e2e guest: an ext4 disk labelled {@code KUBEOS-JOB} with
 * {@code job.sh} (sourced by the probe as root, after it reported the boot) and optionally a
 * payload as {@code payload.img}, seen by the guest as {@code file:///run/job/payload.img}. This is
 * how the host hands payloads and requests to the guest's agent without any network.
 */
public final class GuestJobs {
  /** The payload's URL inside the guest. */
  public static final String PAYLOAD_URL = "file:///run/job/payload.img";

  private GuestJobs() {}

  /**
   * Makes a job disk in {@code dir} with the shell {@code lines} and, if not null, {@code payload}
   * (hard-linked, so it must be on the same file system as {@code dir}, else copied).
   */
  public static Path disk(Path dir, Path payload, List<String> lines)
      throws IOException, InterruptedException {
    return disk(dir, payload, lines, java.util.Map.of());
  }

  /**
   * As {@link #disk(Path, Path, List)}, with more {@code files} on the disk: each at {@code
   * /run/job/<name>} in the guest (a plain file name; hard-linked or copied like the payload).
   */
  public static Path disk(
      Path dir, Path payload, List<String> lines, java.util.Map<String, Path> files)
      throws IOException, InterruptedException {
    Path d = Files.createDirectories(dir.resolve("job-" + System.nanoTime()));
    Files.writeString(d.resolve("job.sh"), String.join("\n", lines) + "\n");
    long size = 64L << 20;
    if (payload != null) {
      size += place(payload, d.resolve("payload.img"));
    }
    for (java.util.Map.Entry<String, Path> f : files.entrySet()) {
      if (!f.getKey().matches("[A-Za-z0-9][A-Za-z0-9._-]*") || f.getKey().equals("job.sh")) {
        throw new IllegalArgumentException("job disk file name " + f.getKey());
      }
      size += place(f.getValue(), d.resolve(f.getKey()));
    }
    Path img = dir.resolve(d.getFileName() + ".img");
    Host.run(
        List.of(
            "mkfs.ext4",
            "-q",
            "-F",
            "-L",
            "KUBEOS-JOB",
            "-d",
            d.toString(),
            img.toString(),
            (size >> 10) + "k"));
    return img;
  }

  private static long place(Path file, Path at) throws IOException {
    try {
      Files.createLink(at, file);
    } catch (IOException | UnsupportedOperationException e) {
      Files.copy(file, at);
    }
    return Files.size(file);
  }

  /** The job line that stages the raw payload as {@code version}; prints PROBE-STAGED ok. */
  public static String stage(String sha256, String version) {
    return "kubeos agent stage --url "
        + PAYLOAD_URL
        + " --sha256 "
        + sha256
        + " --version "
        + version
        + " --format raw && echo 'PROBE-STAGED ok'";
  }

  /** The agent's {@code status --json} the probe printed on {@code console}. */
  public static JsonNode status(String console) throws IOException {
    String json = QemuGuest.probe(console, "STATUS");
    if (json == null || json.isEmpty()) {
      throw new IOException("the guest printed no agent status (PROBE-STATUS) on its console");
    }
    return Json.mapper().readTree(json);
  }
}
