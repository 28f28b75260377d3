package dev.kubeos.bench;

import dev.kubeos.rpc.JsonRpcClient;
import dev.kubeos.testing.TestDisks;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Macro benchmark of the agent daemon's cold start, which every request after an idle exit pays
 * (issue 14): time from process start to the first answer of {@code status} on its socket, the CPU
 * the process used by then, and resident memory once idle, side by side with {@code java -version}
 * on the same runtime with the same flags.
 *
 * <p>The JVM flags are the systemd unit's, read from its ExecStart line (the CDS archive moved into
 * a scratch directory). Set-ups: the unit as shipped (dynamic AppCDS archive, auto-created by the
 * warm-up run); the same with a JDK 25 AOT cache instead (trained by the warm-up run); and C1 only,
 * for reference (slow hashing, not what the unit runs).
 *
 * <p>Usage: {@code ServeBench RUNTIME_DIR UNIT_FILE [RUNS]}; see bench/serve-bench.sh.
 */
public final class ServeBench {

  private record Setup(String name, List<String> flags, List<String> warmUpFlags) {}

  private record Sample(double startMillis, double cpuMillis, long rssKiB) {}

  public static void main(String[] args) throws Exception {
    Path runtime = Path.of(args[0]).toAbsolutePath();
    Path unit = Path.of(args[1]);
    int runs = args.length > 2 ? Integer.parseInt(args[2]) : 5;
    Path work = Files.createTempDirectory("kubeos-serve-bench");
    Path disk = TestDisks.create(work.resolve("disk.img"), 2, 16, 4);
    String java = runtime.resolve("bin/java").toString();
    String jar = runtime.resolve("kubeos.jar").toString();
    List<String> unitFlags = unitFlags(unit);
    List<String> plain = new ArrayList<>(unitFlags);
    plain.removeIf(f -> f.contains("SharedArchive"));
    List<String> shipped = new ArrayList<>();
    for (String f : unitFlags) {
      shipped.add(
          f.startsWith("-XX:SharedArchiveFile=")
              ? "-XX:SharedArchiveFile=" + work.resolve("agent.jsa")
              : f);
    }
    Path aot = work.resolve("agent.aot");
    List<String> c1 = new ArrayList<>(shipped);
    c1.replaceAll(
        f ->
            f.equals("-XX:SharedArchiveFile=" + work.resolve("agent.jsa"))
                ? "-XX:SharedArchiveFile=" + work.resolve("agent-c1.jsa")
                : f);
    c1.add("-XX:TieredStopAtLevel=1");
    List<Setup> setups =
        List.of(
            new Setup("the unit's flags (dynamic AppCDS)", shipped, shipped),
            new Setup(
                "unit's flags, JDK AOT cache instead of AppCDS",
                concat(plain, List.of("-XX:AOTCache=" + aot)),
                concat(plain, List.of("-XX:AOTCacheOutput=" + aot))),
            new Setup("unit's flags + C1 only (reference)", c1, c1));

    System.out.println("runtime: " + java + ", " + runs + " runs per set-up, medians");
    System.out.println("unit flags: " + String.join(" ", unitFlags));
    run(concat(List.of(java), plain, List.of("-jar", jar)), work, disk, false);
    double[] version = new double[runs];
    for (int i = 0; i < runs; i++) {
      long t0 = System.nanoTime();
      Process p =
          new ProcessBuilder(concat(List.of(java), plain, List.of("-version")))
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      p.waitFor();
      version[i] = (System.nanoTime() - t0) / 1e6;
    }
    double versionMedian = median(version);
    System.out.printf(
        "%-48s %14s %10s %12s %10s%n", "set-up", "start->status", "CPU", "x java -v", "RSS idle");
    System.out.printf(
        "%-48s %11.0f ms %10s %12s %10s%n",
        "java -version (same flags)", versionMedian, "", "", "");
    for (Setup s : setups) {
      List<String> warm = concat(List.of(java), s.warmUpFlags(), List.of("-jar", jar));
      run(warm, work, disk, true); // warm-up: writes the archive or cache
      List<String> cmd = concat(List.of(java), s.flags(), List.of("-jar", jar));
      List<Sample> samples = new ArrayList<>();
      for (int i = 0; i < runs; i++) {
        samples.add(run(cmd, work, disk, true));
      }
      double start = median(samples.stream().mapToDouble(Sample::startMillis).toArray());
      double cpu = median(samples.stream().mapToDouble(Sample::cpuMillis).toArray());
      double rss = median(samples.stream().mapToDouble(Sample::rssKiB).toArray());
      System.out.printf(
          "%-48s %11.0f ms %7.0f ms %11.1fx %6.1f MiB%n",
          s.name(), start, cpu, start / versionMedian, rss / 1024);
    }
  }

  private static Sample run(List<String> java, Path work, Path disk, boolean serve)
      throws Exception {
    Path socket = work.resolve("run/agent.sock");
    List<String> cmd = new ArrayList<>(java);
    cmd.addAll(
        List.of(
            "agent",
            "--disk",
            disk.toString(),
            "--boot-dir",
            work.resolve("esp").toString(),
            "--state-dir",
            work.resolve("state").toString(),
            "--booted-slot",
            "A"));
    if (!serve) {
      cmd.addAll(List.of("init", "--version", "v1"));
      Process p = new ProcessBuilder(cmd).inheritIO().start();
      if (p.waitFor() != 0) {
        throw new IllegalStateException("init failed");
      }
      return null;
    }
    cmd.addAll(List.of("serve", "--socket", socket.toString()));
    long t0 = System.nanoTime();
    Process p =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(work.resolve("serve.log").toFile())
            .start();
    try {
      JsonRpcClient client = new JsonRpcClient(socket, Duration.ofSeconds(30));
      double millis;
      while (true) {
        try {
          client.call("status");
          millis = (System.nanoTime() - t0) / 1e6;
          break;
        } catch (RuntimeException notYet) {
          if (!p.isAlive()) {
            throw new IllegalStateException(
                "serve exited: " + Files.readString(work.resolve("serve.log")));
          }
          Thread.sleep(2); // polling the socket: this is the measurement, not a test
        }
      }
      double cpu = ProcStats.cpuSeconds(p.pid()) * 1000;
      Thread.sleep(3000); // idle
      return new Sample(millis, cpu, ProcStats.statusKiB(p.pid(), "VmRSS:"));
    } finally {
      p.destroy(); // SIGTERM: a normal JVM exit, which also writes the archive or AOT cache
      p.waitFor();
    }
  }

  /** The unit's JVM flags: every -X token of its ExecStart line. */
  private static List<String> unitFlags(Path unit) throws IOException {
    String exec =
        Files.readAllLines(unit).stream()
            .filter(l -> l.startsWith("ExecStart="))
            .findFirst()
            .orElseThrow(() -> new IllegalStateException("no ExecStart= in " + unit));
    List<String> flags = new ArrayList<>();
    for (String token : exec.split("\\s+")) {
      if (token.startsWith("-X")) {
        flags.add(token);
      }
    }
    return flags;
  }

  private static double median(double[] values) {
    double[] v = values.clone();
    java.util.Arrays.sort(v);
    return v[v.length / 2];
  }

  @SafeVarargs
  private static List<String> concat(List<String>... parts) {
    List<String> all = new ArrayList<>();
    for (List<String> p : parts) {
      all.addAll(p);
    }
    return all;
  }
}
