package dev.kubeos.bench;

import dev.kubeos.agent.disk.FileBlockDevice;
import dev.kubeos.agent.payload.PayloadSources;
import dev.kubeos.agent.port.BlockDevice;
import dev.kubeos.agent.stage.ProgressListener;
import dev.kubeos.agent.stage.RawImageWriter;
import dev.kubeos.agent.stage.StageResult;
import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.oci.source.FetchOptions;
import dev.kubeos.testing.PayloadServer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Macro benchmark: stage a 1 GiB incompressible raw image served over loopback http into a
 * file-backed slot, ours versus shell pipelines, with the lower bound of the three stages.
 */
public final class StageBench {
  private static final int MIB = 1 << 20;

  public static void main(String[] args) throws Exception {
    Path base = Path.of("/var/tmp");
    long size = 1L << 30;
    int runs = 3;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--dir" -> base = Path.of(args[++i]);
        case "--size-mib" -> size = Long.parseLong(args[++i]) * MIB;
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        default -> throw new IllegalArgumentException("usage: [--dir D] [--size-mib N] [--runs N]");
      }
    }
    Path dir = Files.createTempDirectory(base, "stage-bench-");
    try {
      run(dir, size, runs);
    } finally {
      try (var s = Files.list(dir)) {
        for (Path p : s.toList()) {
          Files.deleteIfExists(p);
        }
      }
      Files.deleteIfExists(dir);
    }
  }

  private static void run(Path dir, long size, int runs) throws Exception {
    byte[] payload = new byte[Math.toIntExact(size)];
    SplittableRandom rnd = new SplittableRandom(42);
    ByteBuffer.wrap(payload).asLongBuffer().put(rnd.longs(size / 8).toArray());
    Path src = dir.resolve("payload.img");
    Files.write(src, payload);
    Sha256 expected = Sha256.of(MessageDigest.getInstance("SHA-256").digest(payload));
    Path slot = dir.resolve("slot.img");
    Files.write(slot, new byte[Math.toIntExact(size)]); // allocated, not sparse
    Path dl = dir.resolve("download.img");
    System.out.printf(
        "payload %d MiB, %d run(s) each (median), dir %s, %d cores%n",
        size / MIB, runs, dir, Runtime.getRuntime().availableProcessors());
    try (PayloadServer server = PayloadServer.http()) {
      server.serve("/payload.img", src);
      String url = server.url("/payload.img").toString();
      String q = "'" + url + "'";
      List<String[]> rows = new ArrayList<>();
      double ours =
          median(
              runs,
              () -> {
                try (BlockDevice dev = FileBlockDevice.open(slot, true)) {
                  StageResult r =
                      new RawImageWriter()
                          .write(
                              PayloadSources.open(
                                  server.url("/payload.img"),
                                  FetchOptions.defaults().withInsecure(true)),
                              expected,
                              dev,
                              ProgressListener.NONE);
                  if (!r.readBackUncached()) {
                    throw new IllegalStateException("read-back did not bypass the cache");
                  }
                }
              });
      double pipe =
          median(
              runs,
              () ->
                  sh(
                      "curl -sf "
                          + q
                          + " | tee >(sha256sum > "
                          + dir.resolve("sum.txt")
                          + ") | dd of="
                          + slot
                          + " bs=4M conv=fsync,notrunc status=none"));
      double upstream =
          median(
              runs,
              () -> {
                sh("curl -sf -o " + dl + " " + q);
                sh("sha256sum " + dl + " > /dev/null");
                sh("dd if=" + dl + " of=" + slot + " bs=4M conv=fsync,notrunc status=none");
                Files.delete(dl);
              });
      double download = median(runs, () -> sh("curl -sf -o /dev/null " + q));
      double hash =
          median(
              runs,
              () -> {
                MessageDigest md = MessageDigest.getInstance("SHA-256");
                md.update(payload);
                md.digest();
              });
      double writeSync = median(runs, () -> writeAndForce(slot, payload));
      double bound = Math.max(download, Math.max(hash, writeSync));
      rows.add(
          row(
              "ours: RawImageWriter (1 pass, sync every 32 MiB, O_DIRECT read-back)",
              ours,
              size,
              bound));
      rows.add(row("(a) curl | tee >(sha256sum) | dd conv=fsync", pipe, size, bound));
      rows.add(
          row(
              "(b) curl -o file; sha256sum file; dd conv=fsync (upstream flow)",
              upstream,
              size,
              bound));
      rows.add(row("(c) lower bound = max of the three below", bound, size, bound));
      rows.add(row("    download only: curl -o /dev/null", download, size, bound));
      rows.add(row("    hash only: Java SHA-256 in memory", hash, size, bound));
      rows.add(row("    write + fsync only: Java FileChannel", writeSync, size, bound));
      System.out.printf(
          "%n| %-72s | %8s | %9s | %8s |%n", "variant", "seconds", "MiB/s", "x bound");
      System.out.printf(
          "|%s|%s|%s|%s|%n", "-".repeat(74), "-".repeat(10), "-".repeat(11), "-".repeat(10));
      for (String[] r : rows) {
        System.out.printf("| %-72s | %8s | %9s | %8s |%n", (Object[]) r);
      }
      System.out.println(
          "\nCaches are not dropped between runs (no root-only drop_caches in this sandbox): the"
              + " served payload file is in the page cache.");
    }
  }

  private static String[] row(String name, double seconds, long size, double bound) {
    return new String[] {
      name,
      String.format("%.2f", seconds),
      String.format("%.0f", size / (double) MIB / seconds),
      String.format("%.2f", seconds / bound)
    };
  }

  private static void writeAndForce(Path slot, byte[] payload) throws IOException {
    try (FileChannel ch = FileChannel.open(slot, StandardOpenOption.WRITE)) {
      ByteBuffer buf = ByteBuffer.allocateDirect(4 * MIB);
      for (int off = 0; off < payload.length; off += 4 * MIB) {
        buf.clear();
        buf.put(payload, off, Math.min(4 * MIB, payload.length - off)).flip();
        long pos = off;
        while (buf.hasRemaining()) {
          pos += ch.write(buf, pos);
        }
      }
      ch.force(false);
    }
  }

  private interface Step {
    void run() throws Exception;
  }

  private static double median(int runs, Step step) throws Exception {
    double[] t = new double[runs];
    for (int i = 0; i < runs; i++) {
      long start = System.nanoTime();
      step.run();
      t[i] = (System.nanoTime() - start) / 1e9;
    }
    Arrays.sort(t);
    return t[runs / 2];
  }

  private static void sh(String script) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("bash", "-c", "set -o pipefail; " + script).inheritIO().start();
    if (p.waitFor() != 0) {
      throw new IOException("'" + script + "' failed with status " + p.exitValue());
    }
  }
}
