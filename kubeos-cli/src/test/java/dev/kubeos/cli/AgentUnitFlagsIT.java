package dev.kubeos.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kubeos.image.build.OsCustomizer;
import dev.kubeos.testing.TestDisks;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JVM flags the shipped systemd unit gives the agent daemon are enough for its heaviest work:
 * staging (whose ring of direct buffers does not fit the heap-sized default direct-memory limit).
 * Runs the slim node jar in a separate JVM with exactly those flags.
 */
class AgentUnitFlagsIT {
  private static final Path UNIT = Path.of("../deploy/systemd/kubeos-agent.service");
  private static final Path JAR = Path.of("target/kubeos-agent.jar");

  @TempDir Path dir;

  @Test
  void theDaemonsFlagsCanStageAPayload() throws Exception {
    Path disk = TestDisks.create(dir.resolve("disk.img"), 2, 96, 8);
    byte[] payload = new byte[12 << 20];
    new Random(3).nextBytes(payload);
    Path file = Files.write(dir.resolve("v2.img"), payload);
    String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(payload));
    String[] agent = {
      "agent",
      "--disk",
      disk.toString(),
      "--boot-dir",
      dir.resolve("esp").toString(),
      "--state-dir",
      dir.resolve("state").toString(),
      "--booted-slot",
      "A"
    };
    assertThat(run(agent, "init", "--version", "v1")).contains("slot A");
    String out =
        run(agent, "stage", "--url", file.toUri().toString(), "--sha256", sha, "--version", "v2");
    assertThat(out).contains("staged v2: " + payload.length + " bytes");
    assertThat(run(agent, "status", "--json")).contains("\"v2\"", "VERIFIED");
  }

  /**
   * A JVM whose direct-memory limit cannot hold staging's ring of buffers (64 MiB by default)
   * stages anyway with fewer buffers and more frequent syncs, instead of failing: the unit's flags
   * with {@code -XX:MaxDirectMemorySize=24m}.
   */
  @Test
  void aStageWithLittleDirectMemoryUsesASmallerRing() throws Exception {
    Path disk = TestDisks.create(dir.resolve("disk.img"), 2, 96, 8);
    byte[] payload = new byte[40 << 20];
    new Random(5).nextBytes(payload);
    Path file = Files.write(dir.resolve("v2.img"), payload);
    String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(payload));
    String[] agent = {
      "agent",
      "--disk",
      disk.toString(),
      "--boot-dir",
      dir.resolve("esp").toString(),
      "--state-dir",
      dir.resolve("state").toString(),
      "--booted-slot",
      "A"
    };
    List<String> flags = new ArrayList<>();
    for (String f : unitJvmFlags(UNIT)) {
      flags.add(f.startsWith("-XX:MaxDirectMemorySize=") ? "-XX:MaxDirectMemorySize=24m" : f);
    }
    assertThat(flags).contains("-XX:MaxDirectMemorySize=24m");
    assertThat(run(flags, agent, "init", "--version", "v1")).contains("slot A");
    String out =
        run(
            flags,
            agent,
            "stage",
            "--url",
            file.toUri().toString(),
            "--sha256",
            sha,
            "--version",
            "v2");
    assertThat(out)
        .contains("staged v2: " + payload.length + " bytes")
        .containsPattern("direct memory for [0-9]+ of 16 ring buffers only");
    assertThat(run(flags, agent, "status", "--json")).contains("\"v2\"", "VERIFIED");
  }

  /**
   * The units bound the service's memory (cgroup {@code MemoryMax=}, above which the kernel ends
   * the service) above the sum of the limits the JVM enforces itself, so that the JVM's own limits
   * (a smaller staging ring, an OutOfMemoryError the unit turns into a restart) come first; and
   * {@code MemoryHigh=} (reclaim and throttling) below it.
   */
  @Test
  void theUnitsMemoryBoundsLieAboveTheJvmsOwnLimits() throws IOException {
    for (String unit : List.of("kubeos-agent.service", "kubeos-health.service")) {
      List<String> lines = Files.readAllLines(UNIT.resolveSibling(unit));
      String exec =
          lines.stream().filter(l -> l.startsWith("ExecStart=")).findFirst().orElseThrow();
      long jvm = 0;
      for (String t : exec.split("\\s+")) {
        for (String flag :
            List.of(
                "-Xmx",
                "-XX:MaxMetaspaceSize=",
                "-XX:ReservedCodeCacheSize=",
                "-XX:MaxDirectMemorySize=")) {
          if (t.startsWith(flag)) {
            jvm += mib(t.substring(flag.length()));
          }
        }
      }
      long max = mib(value(lines, "MemoryMax="));
      long high = mib(value(lines, "MemoryHigh="));
      assertThat(jvm).as(unit + ": heap, metaspace, code cache, direct memory").isPositive();
      assertThat(max).as(unit + " MemoryMax (MiB)").isGreaterThan(jvm);
      assertThat(high).as(unit + " MemoryHigh (MiB)").isLessThan(max);
    }
  }

  private static String value(List<String> lines, String key) {
    return lines.stream()
        .filter(l -> l.startsWith(key))
        .map(l -> l.substring(key.length()))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + key));
  }

  /** A JVM or systemd size (k, m, g or K, M, G suffix) in MiB. */
  private static long mib(String size) {
    char unit = Character.toLowerCase(size.charAt(size.length() - 1));
    long n = Long.parseLong(size.substring(0, size.length() - 1));
    switch (unit) {
      case 'k':
        return n / 1024;
      case 'm':
        return n;
      case 'g':
        return n * 1024;
      default:
        throw new IllegalArgumentException("no unit in " + size);
    }
  }

  /**
   * The health unit's JVM accepts its flags (among them the diagnostic {@code
   * ArchiveRelocationMode=0} that saves the guest seconds per start, see docs/benchmarks.md) and
   * runs the gate with them: on a boot that is no trial it reports and passes.
   */
  @Test
  void theHealthUnitsFlagsRunTheGate() throws Exception {
    Path disk = TestDisks.create(dir.resolve("disk.img"), 2, 96, 8);
    String[] agent = {
      "agent",
      "--disk",
      disk.toString(),
      "--boot-dir",
      dir.resolve("esp").toString(),
      "--state-dir",
      dir.resolve("state").toString(),
      "--health-config",
      dir.resolve("no-health.json").toString(),
      "--booted-slot",
      "A"
    };
    Path health = UNIT.resolveSibling("kubeos-health.service");
    assertThat(run(health, agent, "init", "--version", "v1")).contains("slot A");
    assertThat(run(health, agent, "health", "--no-reboot")).contains("health passed");
  }

  /**
   * Both units end a JVM that ran out of memory instead of leaving it running without answering;
   * the agent unit's {@code Restart=on-failure} then starts a fresh daemon.
   */
  @Test
  void theUnitsExitOnOutOfMemorySoSystemdRestartsThem() throws IOException {
    for (String unit : List.of("kubeos-agent.service", "kubeos-health.service")) {
      List<String> lines = Files.readAllLines(UNIT.resolveSibling(unit));
      String exec =
          lines.stream().filter(l -> l.startsWith("ExecStart=")).findFirst().orElseThrow();
      assertThat(exec.split("\\s+")).as(unit).contains("-XX:+ExitOnOutOfMemoryError");
    }
    assertThat(Files.readAllLines(UNIT)).contains("Restart=on-failure");
  }

  /**
   * A runtime linked from Debian 12's only JDK, 17, cannot start the unit as shipped (its {@code
   * -XX:+AutoCreateSharedArchive} came with Java 19); the unit as the image builder writes it for
   * such a runtime starts and serves there.
   */
  @Test
  void theUnitAsWrittenForAJava17RuntimeStartsOnJava17() throws Exception {
    Path java17 = Path.of("/usr/lib/jvm/java-17-openjdk-amd64/bin/java");
    assumeTrue(Files.isExecutable(java17), "OpenJDK 17 (scripts/install-deps.sh installs it)");
    String shipped = Files.readString(UNIT);
    Process refused =
        new ProcessBuilder(cmd(java17, execFlags(shipped), "--version"))
            .redirectErrorStream(true)
            .start();
    assertThat(new String(refused.getInputStream().readAllBytes()))
        .contains("Unrecognized VM option 'AutoCreateSharedArchive'");
    assertThat(refused.waitFor()).isNotZero();

    String unit = OsCustomizer.unitFor("kubeos-agent.service", shipped, 17);
    assertThat(unit).contains("# Java 17 runtime: no -XX:+AutoCreateSharedArchive");
    Serve serve = serve(cmd(java17, execFlags(unit)));
    serve.stop();
    assertThat(serve.log()).contains("kubeos agent: listening on");
  }

  /**
   * A daemon whose archive file is not a CDS archive (what a power loss during the JVM's write at
   * an idle exit leaves) removes it once it serves; the next start writes a good one at its exit,
   * and the one after that uses it. Needs a JVM that knows {@code -XX:+AutoCreateSharedArchive}
   * (19+: the runtime the image builder links from Temurin 25).
   */
  @Test
  void aBrokenArchiveIsRemovedAndTheNextStartWritesAGoodOne() throws Exception {
    Path java = javaAtLeast(OsCustomizer.AUTO_ARCHIVE_SINCE);
    Path archive = dir.resolve("agent-1.0.jsa");
    Files.write(archive, new byte[0]); // empty: the write never reached the disk
    List<String> flags = new ArrayList<>();
    for (String f : execFlags(Files.readString(UNIT))) {
      flags.add(f.startsWith("-XX:SharedArchiveFile=") ? "-XX:SharedArchiveFile=" + archive : f);
    }
    assertThat(flags).contains("-XX:+AutoCreateSharedArchive");

    Serve first = serve(cmd(java, flags));
    first.stop();
    assertThat(first.log()).contains("kubeos agent: removed " + archive + ": not a CDS archive");
    assertThat(archive).doesNotExist();

    Serve second = serve(cmd(java, flags));
    second.stop();
    // (the dump's own warnings name the classes it skips: "[warning][cds] Skipping ...")
    assertThat(second.log()).doesNotContain("removed", "[error", "magic", "header");
    byte[] head = Arrays.copyOf(Files.readAllBytes(archive), 4);
    assertThat(ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN).getInt())
        .as("the dynamic archive's magic")
        .isEqualTo(DaemonArchive.DYNAMIC_MAGIC);

    Serve third = serve(cmd(java, flags));
    third.stop();
    assertThat(third.log())
        .as("the archive used, not made again")
        .doesNotContain("removed", "[cds]");
  }

  /** A started {@code agent serve}, its stderr and stdout in one log. */
  private record Serve(Process process, Path logFile) {
    /** SIGTERM, as systemctl stop: the JVM ends normally (and writes its archive). */
    void stop() throws InterruptedException {
      process.destroy();
      assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
    }

    String log() throws IOException {
      return Files.readString(logFile);
    }
  }

  /**
   * Starts {@code argv} (java, flags, jar) + an agent on a fresh disk + {@code serve}, and waits
   * until it serves.
   */
  private Serve serve(List<String> argv) throws Exception {
    Path run = Files.createTempDirectory(dir, "serve");
    Path disk = TestDisks.create(run.resolve("disk.img"), 2, 16, 4);
    List<String> agent =
        List.of(
            "agent",
            "--disk",
            disk.toString(),
            "--boot-dir",
            run.resolve("esp").toString(),
            "--state-dir",
            run.resolve("state").toString(),
            "--booted-slot",
            "A");
    // init without the archive: the file is serve's alone
    List<String> init = new ArrayList<>(argv);
    init.removeIf(a -> a.contains("SharedArchive"));
    init.addAll(agent);
    init.addAll(List.of("init", "--version", "v1"));
    Process p = new ProcessBuilder(init).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor()).as(out).isZero();
    List<String> serve = new ArrayList<>(argv);
    serve.addAll(agent);
    serve.addAll(List.of("serve", "--socket", run.resolve("agent.sock").toString()));
    Path log = run.resolve("serve.log");
    Process daemon =
        new ProcessBuilder(serve).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    await("agent serve listens")
        .atMost(Duration.ofMinutes(2))
        .until(
            () ->
                !daemon.isAlive() || Files.readString(log).contains("kubeos agent: listening on"));
    assertThat(daemon.isAlive()).as(Files.readString(log)).isTrue();
    return new Serve(daemon, log);
  }

  /** {@code java}, the flags and the node jar. */
  private static List<String> cmd(Path java, List<String> flags, String... args) {
    List<String> argv = new ArrayList<>();
    argv.add(java.toString());
    argv.addAll(flags);
    argv.addAll(List.of("-jar", JAR.toString()));
    argv.addAll(Arrays.asList(args));
    return argv;
  }

  /** Every JVM option of a unit's ExecStart (the archive's too), {@code %w} as systemd fills it. */
  private static List<String> execFlags(String unit) {
    String exec = unit.lines().filter(l -> l.startsWith("ExecStart=")).findFirst().orElseThrow();
    List<String> flags = new ArrayList<>();
    for (String token : exec.split("\\s+")) {
      if (token.startsWith("-X")) {
        flags.add(token.replace("%w", "1.0"));
      }
    }
    return flags;
  }

  /**
   * A JVM of at least {@code feature}: this one, or one under /usr/lib/jvm; else the test is
   * skipped.
   */
  private static Path javaAtLeast(int feature) throws IOException {
    if (Runtime.version().feature() >= feature) {
      return Path.of(ProcessHandle.current().info().command().orElseThrow());
    }
    try (var jdks = Files.list(Path.of("/usr/lib/jvm"))) {
      for (Path jdk : jdks.sorted().toList()) {
        if (Files.isExecutable(jdk.resolve("bin/java"))
            && OsCustomizer.javaFeature(jdk) >= feature) {
          return jdk.resolve("bin/java");
        }
      }
    }
    assumeTrue(false, "no JDK " + feature + "+ here (Temurin 25 beside Debian's 17 has one)");
    return null;
  }

  /** The unit's JVM options, without the CDS archive whose path only exists on a node. */
  private static List<String> unitJvmFlags(Path unit) throws IOException {
    List<String> flags = new ArrayList<>(execFlags(Files.readString(unit)));
    flags.removeIf(f -> f.contains("SharedArchive"));
    assertThat(flags).anyMatch(f -> f.startsWith("-Xmx"));
    return flags;
  }

  private static String run(String[] agent, String... command) throws Exception {
    return run(unitJvmFlags(UNIT), agent, command);
  }

  private static String run(Path unit, String[] agent, String... command) throws Exception {
    return run(unitJvmFlags(unit), agent, command);
  }

  private static String run(List<String> flags, String[] agent, String... command)
      throws Exception {
    List<String> argv = new ArrayList<>();
    argv.add(ProcessHandle.current().info().command().orElse("java"));
    argv.addAll(flags);
    argv.addAll(List.of("-jar", JAR.toString()));
    argv.addAll(Arrays.asList(agent));
    argv.addAll(Arrays.asList(command));
    Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor()).as(String.join(" ", command) + ":\n" + out).isZero();
    return out;
  }
}
