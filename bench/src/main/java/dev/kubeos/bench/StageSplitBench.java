package dev.kubeos.bench;

import dev.kubeos.agent.disk.FileBlockDevice;
import dev.kubeos.agent.payload.PayloadSources;
import dev.kubeos.agent.port.BlockDevice;
import dev.kubeos.agent.stage.ProgressListener;
import dev.kubeos.agent.stage.RawImageWriter;
import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.oci.source.FetchOptions;
import dev.kubeos.testing.PayloadServer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * Where the CPU of a raw stage goes. In one JVM and one run, interleaved run by run so that the
 * machine's load hits all alike: each single stage alone (fetch over loopback http with the agent's
 * HTTP source, SHA-256 in memory, write + fsync, O_DIRECT read-back of the slot), then the whole
 * {@link RawImageWriter} stage; for each, the wall time and the CPU time of every thread of the
 * process (from {@code /proc/self/task/TID/stat}, so GC, JIT compiler and the loopback server's
 * threads are counted too), grouped by thread name.
 */
public final class StageSplitBench {
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
    System.setProperty("sun.net.httpserver.nodelay", "true");
    Path dir = Files.createTempDirectory(base, "stage-split-");
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

  private interface Step {
    void run() throws Exception;
  }

  private record Result(double wall, Map<String, Double> cpu) {
    double total() {
      return cpu.values().stream().mapToDouble(Double::doubleValue).sum();
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
    System.out.printf(
        "payload %d MiB, %d run(s), dir %s, %d cores, load %s%n",
        size / MIB,
        runs,
        dir,
        Runtime.getRuntime().availableProcessors(),
        Files.readString(Path.of("/proc/loadavg")).trim());
    Map<String, List<Result>> results = new java.util.LinkedHashMap<>();
    try (PayloadServer server = PayloadServer.http()) {
      server.serve("/payload.img", src);
      FetchOptions http = FetchOptions.defaults().withInsecure(true);
      Map<String, Step> steps = new java.util.LinkedHashMap<>();
      steps.put(
          "fetch alone (agent's HTTP source, 256 KiB reads, loopback server in this JVM)",
          () -> {
            byte[] buf = new byte[256 << 10];
            try (InputStream in =
                PayloadSources.open(server.url("/payload.img"), http).open(0).stream()) {
              long n = 0;
              for (int r = in.read(buf); r >= 0; r = in.read(buf)) {
                n += r;
              }
              if (n != payload.length) {
                throw new IllegalStateException("fetched " + n);
              }
            }
          });
      steps.put(
          "hash alone (SHA-256 of 4 MiB direct buffers)",
          () -> {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            ByteBuffer b = ByteBuffer.allocateDirect(4 * MIB);
            for (int off = 0; off < payload.length; off += 4 * MIB) {
              b.clear();
              b.put(payload, off, Math.min(4 * MIB, payload.length - off)).flip();
              md.update(b);
            }
            md.digest();
          });
      steps.put("write alone (4 MiB writes, fsync every 32 MiB)", () -> write(slot, payload));
      steps.put(
          "read-back alone (O_DIRECT, 4 MiB, compared)",
          () -> {
            try (BlockDevice dev = FileBlockDevice.open(slot, false)) {
              ByteBuffer b = ByteBuffer.allocateDirect(4 * MIB + 4096).alignedSlice(4096);
              for (long off = 0; off < payload.length; off += 4 * MIB) {
                b.clear().limit((int) Math.min(4 * MIB, payload.length - off));
                dev.readUncached(off, b);
                b.flip();
                if (b.mismatch(ByteBuffer.wrap(payload, (int) off, b.remaining())) >= 0) {
                  throw new IllegalStateException("read-back differs at " + off);
                }
              }
            }
          });
      steps.put(
          "stage: RawImageWriter (all of the above at once)",
          () -> {
            try (BlockDevice dev = FileBlockDevice.open(slot, true)) {
              new RawImageWriter()
                  .write(
                      PayloadSources.open(server.url("/payload.img"), http),
                      expected,
                      dev,
                      ProgressListener.NONE);
            }
          });
      for (int r = 0; r < runs; r++) {
        for (var e : steps.entrySet()) {
          sh("sync");
          Map<Integer, double[]> before = threads();
          // threads that end during the step take their CPU time out of /proc with them: a
          // sampler keeps the last value seen of every thread (every 20 ms)
          Map<Integer, double[]> seen = new java.util.concurrent.ConcurrentHashMap<>();
          java.util.concurrent.atomic.AtomicBoolean on =
              new java.util.concurrent.atomic.AtomicBoolean(true);
          Thread sampler =
              new Thread(
                  () -> {
                    while (on.get()) {
                      try {
                        seen.putAll(threads());
                        Thread.sleep(20);
                      } catch (IOException | InterruptedException x) {
                        return;
                      }
                    }
                  },
                  "bench-sampler");
          sampler.start();
          long t = System.nanoTime();
          e.getValue().run();
          double wall = (System.nanoTime() - t) / 1e9;
          on.set(false);
          sampler.join();
          seen.putAll(threads());
          Map<String, Double> cpu = delta(before, seen);
          cpu.remove("bench-sampler");
          results.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(new Result(wall, cpu));
        }
      }
    }
    double slowest = 0;
    System.out.printf(
        "%n| step | wall s (median) | all runs | CPU s (median run) |%n|---|---:|---|---:|%n");
    Result stage = null;
    for (var e : results.entrySet()) {
      List<Result> rs = new ArrayList<>(e.getValue());
      rs.sort((a, b) -> Double.compare(a.wall(), b.wall()));
      Result med = rs.get(rs.size() / 2);
      if (e.getKey().startsWith("stage")) {
        stage = med;
      } else if (!e.getKey().startsWith("read-back")) {
        slowest = Math.max(slowest, med.wall());
      }
      System.out.printf(
          "| %s | %.2f | %s | %.2f |%n",
          e.getKey(),
          med.wall(),
          Arrays.toString(e.getValue().stream().mapToDouble(Result::wall).toArray()),
          med.total());
    }
    System.out.printf(
        "%nstage / slowest single stage (fetch, hash, write) = %.2f / %.2f = %.2f×%n",
        stage.wall(), slowest, stage.wall() / slowest);
    System.out.printf(
        "stage CPU %.2f s in %.2f s wall = %.2f cores busy%n%n| thread | CPU s |%n|---|---:|%n",
        stage.total(), stage.wall(), stage.total() / stage.wall());
    stage.cpu().entrySet().stream()
        .sorted((a, b) -> Double.compare(b.getValue(), a.getValue()))
        .filter(x -> x.getValue() >= 0.01)
        .forEach(x -> System.out.printf("| %s | %.2f |%n", x.getKey(), x.getValue()));
  }

  /** Per-thread CPU seconds by thread id: {utime + stime}, with the name in a side map. */
  private static final Map<Integer, String> NAMES = new HashMap<>();

  private static Map<Integer, double[]> threads() throws IOException {
    Map<Integer, double[]> out = new HashMap<>();
    try (var tasks = Files.list(Path.of("/proc/self/task"))) {
      for (Path t : tasks.toList()) {
        try {
          String stat = Files.readString(t.resolve("stat"));
          String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
          int tid = Integer.parseInt(t.getFileName().toString());
          NAMES.put(tid, name);
          out.put(tid, new double[] {ProcStats.ticks(stat) / 100.0});
        } catch (IOException | RuntimeException gone) {
          // the thread ended meanwhile
        }
      }
    }
    return out;
  }

  /** CPU seconds spent between the two snapshots, summed by thread name (digits dropped). */
  private static Map<String, Double> delta(Map<Integer, double[]> a, Map<Integer, double[]> b) {
    Map<String, Double> out = new TreeMap<>();
    for (var e : b.entrySet()) {
      double before = a.containsKey(e.getKey()) ? a.get(e.getKey())[0] : 0;
      double d = e.getValue()[0] - before;
      if (d > 0) {
        String name = NAMES.get(e.getKey()).replaceAll("[0-9]+", "#");
        out.merge(name, d, Double::sum);
      }
    }
    return out;
  }

  private static void write(Path slot, byte[] payload) throws IOException {
    try (FileChannel ch = FileChannel.open(slot, StandardOpenOption.WRITE)) {
      ByteBuffer buf = ByteBuffer.allocateDirect(4 * MIB);
      for (int off = 0; off < payload.length; off += 4 * MIB) {
        buf.clear();
        buf.put(payload, off, Math.min(4 * MIB, payload.length - off)).flip();
        long pos = off;
        while (buf.hasRemaining()) {
          pos += ch.write(buf, pos);
        }
        if ((off + 4 * MIB) % (32 * MIB) == 0) {
          ch.force(false);
        }
      }
      ch.force(false);
    }
  }

  private static void sh(String script) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("bash", "-c", script).inheritIO().start();
    if (p.waitFor() != 0) {
      throw new IOException("'" + script + "' failed with status " + p.exitValue());
    }
  }
}
