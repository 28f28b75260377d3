package dev.kubeos.bench;

import dev.kubeos.rpc.JsonRpcClient;
import dev.kubeos.testing.TestDisks;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Macro benchmark of the agent daemon: time from process start to the first answer of {@code
 * status} on its socket, and resident memory once idle, for several JVM set-ups side by side.
 *
 * <p>Usage: {@code ServeBench JAR RUNTIME_DIR [RUNS]}; see bench/serve-bench.sh.
 */
public final class ServeBench {
  private static final String TUNED =
      "-XX:+UseSerialGC -Xss256k -Xms8m -Xmx48m -XX:MaxMetaspaceSize=48m"
          + " -XX:ReservedCodeCacheSize=16m -XX:CICompilerCount=2 -XX:MaxDirectMemorySize=128m"
          + " -XX:-UsePerfData";

  private record Setup(String name, List<String> command) {}

  private record Sample(double startMillis, long rssKiB) {}

  public static void main(String[] args) throws Exception {
    Path jar = Path.of(args[0]).toAbsolutePath();
    Path runtime = Path.of(args[1]).toAbsolutePath();
    int runs = args.length > 2 ? Integer.parseInt(args[2]) : 5;
    Path work = Files.createTempDirectory("kubeos-serve-bench");
    Path disk = TestDisks.create(work.resolve("disk.img"), 2, 16, 4);
    String jdk17 = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java";
    Path jsa = work.resolve("agent.jsa");
    List<Setup> setups =
        List.of(
            new Setup("JDK 17, default flags", List.of(jdk17, "-jar", jar.toString())),
            new Setup(
                "JDK 17, tuned flags",
                concat(
                    List.of(jdk17), split(TUNED), List.of("-Xshare:auto", "-jar", jar.toString()))),
            new Setup(
                "jlink'd JDK 25 runtime, tuned flags + AppCDS",
                concat(
                    List.of(runtime.resolve("bin/java").toString()),
                    split(TUNED),
                    List.of(
                        "-XX:+AutoCreateSharedArchive",
                        "-XX:SharedArchiveFile=" + jsa,
                        "-jar",
                        runtime.resolve("kubeos.jar").toString()))));
    run(setups.get(0).command(), work, disk, "init", false); // init the node once
    System.out.printf(
        "%-46s %14s %14s %14s%n",
        "set-up (" + runs + " runs, medians)", "start->status", "RSS idle", "RSS min-max");
    for (Setup s : setups) {
      run(s.command(), work, disk, "serve", true); // warm-up (also creates the CDS archive)
      List<Sample> samples = new ArrayList<>();
      for (int i = 0; i < runs; i++) {
        samples.add(run(s.command(), work, disk, "serve", true));
      }
      double[] t = samples.stream().mapToDouble(Sample::startMillis).sorted().toArray();
      long[] rss = samples.stream().mapToLong(Sample::rssKiB).sorted().toArray();
      System.out.printf(
          "%-46s %11.0f ms %10.1f MiB %6.1f-%.1f MiB%n",
          s.name(),
          t[t.length / 2],
          rss[rss.length / 2] / 1024.0,
          rss[0] / 1024.0,
          rss[rss.length - 1] / 1024.0);
    }
  }

  private static Sample run(List<String> java, Path work, Path disk, String what, boolean serve)
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
      JsonRpcClient client = new JsonRpcClient(socket, Duration.ofSeconds(5));
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
          Thread.sleep(2);
        }
      }
      Thread.sleep(3000); // idle
      return new Sample(millis, rssKiB(p.pid()));
    } finally {
      p.destroy();
      p.waitFor();
    }
  }

  private static long rssKiB(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    throw new IllegalStateException("no VmRSS for " + pid);
  }

  private static List<String> split(String flags) {
    return Arrays.asList(flags.split(" "));
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
