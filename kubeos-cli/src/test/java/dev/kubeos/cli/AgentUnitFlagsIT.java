package dev.kubeos.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubeos.testing.TestDisks;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
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

  /** The unit's JVM options, without the CDS archive whose path only exists on a node. */
  private static List<String> unitJvmFlags(Path unit) throws IOException {
    String exec =
        Files.readAllLines(unit).stream()
            .filter(l -> l.startsWith("ExecStart="))
            .findFirst()
            .orElseThrow();
    List<String> flags = new ArrayList<>();
    for (String token : exec.split("\\s+")) {
      if (token.startsWith("-X") && !token.contains("SharedArchive")) {
        flags.add(token);
      }
    }
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
