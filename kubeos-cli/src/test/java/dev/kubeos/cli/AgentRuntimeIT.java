package dev.kubeos.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.signing.Keys;
import dev.kubeos.formats.signing.Signatures;
import dev.kubeos.testing.PayloadServer;
import dev.kubeos.testing.TestDisks;
import dev.kubeos.testing.TestPki;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's runtime as scripts/build-agent-runtime.sh links it with Java 17, the only JDK a fresh
 * Debian 12 has: the agent checks ECDSA signatures and fetches over TLS from servers with EC
 * certificates (on Java 17 the EC provider is the module jdk.crypto.ec, which jdeps cannot see: it
 * is a service, so scripts/agent-runtime.modules must name it); and the post-boot gate runs with
 * kubeos-health.service's flags on the CDS archive the script makes, from a copy of the runtime
 * elsewhere, as the image builder copies it into the node's root.
 */
class AgentRuntimeIT {
  private static final Path REPO = Path.of(System.getProperty("user.dir")).getParent();
  private static final String NODE_RUNTIME = "/usr/lib/kubeos/runtime";

  @TempDir static Path linked;
  @TempDir Path dir;
  private static Path runtime;

  /** Links the runtime once for all tests (about 15 s). */
  @BeforeAll
  static void link() throws Exception {
    Path jdk = jdk17();
    assumeTrue(Files.isExecutable(jdk.resolve("bin/jlink")), "no Java 17 jlink at " + jdk);
    Path agentJar = REPO.resolve("kubeos-cli/target/kubeos-agent.jar");
    assertThat(agentJar).as("the agent jar (package)").isRegularFile();
    runtime = linked.resolve("runtime");
    ProcessBuilder build =
        new ProcessBuilder(
                REPO.resolve("scripts/build-agent-runtime.sh").toString(), runtime.toString())
            .redirectErrorStream(true)
            .redirectOutput(linked.resolve("link.log").toFile());
    build.environment().put("JLINK_JDK", jdk.toString());
    Process link = build.start();
    assertThat(link.waitFor(5, TimeUnit.MINUTES)).isTrue();
    assertThat(link.exitValue()).as(Files.readString(linked.resolve("link.log"))).isZero();
  }

  /** Java 17's JDK: the one running the build when it is 17, else Debian's. */
  private static Path jdk17() {
    Path home = Path.of(System.getProperty("java.home"));
    if (Runtime.version().feature() == 17 && Files.isExecutable(home.resolve("bin/jlink"))) {
      return home;
    }
    return Path.of("/usr/lib/jvm/java-17-openjdk-amd64");
  }

  @Test
  void theRuntimeLinkedByJava17ChecksEcSignaturesAndFetchesFromAnEcTlsServer() throws Exception {
    KeyPair key = Keys.generate();
    String payload = "sha256:0123456789abcdef";
    String signature = Signatures.sign(key.getPrivate(), payload.getBytes(StandardCharsets.UTF_8));
    TestPki pki = TestPki.create(dir.resolve("pki"), TestPki.KeyFormat.EC);
    try (PayloadServer server = PayloadServer.https(pki, false)) {
      server.serve("/ping", "pong".getBytes(StandardCharsets.UTF_8));
      Process p =
          new ProcessBuilder(
                  List.of(
                      runtime.resolve("bin/java").toString(),
                      "-cp",
                      runtime.resolve("kubeos.jar")
                          + ":"
                          + REPO.resolve("kubeos-cli/target/test-classes"),
                      AgentRuntimeProbe.class.getName(),
                      Base64.getEncoder().encodeToString(key.getPublic().getEncoded()),
                      payload,
                      signature,
                      pki.caCertPem().toString(),
                      server.url("/ping").toString()))
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("probe.log").toFile())
              .start();
      assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
      String out = Files.readString(dir.resolve("probe.log"));
      assertThat(p.exitValue()).as(out).isZero();
      assertThat(out).contains("signature valid", "https 200 pong");
    }
  }

  /**
   * kubeos-health.service's command line, with the node's runtime path pointing at a copy of the
   * runtime made as the image builder makes it (times kept) and {@code -Xshare:on}, which ends the
   * JVM when it cannot use the archives: the gate runs on the script's archive, passes with a
   * passing check and fails with the gate's status with a failing one.
   */
  @Test
  void theHealthGateRunsOnTheRuntimesArchiveFromACopyOfTheRuntime() throws Exception {
    assertThat(runtime.resolve("kubeos.jsa")).isRegularFile();
    Path copy = dir.resolve("root/usr/lib/kubeos/runtime");
    Files.createDirectories(copy.getParent());
    Process cp = new ProcessBuilder("cp", "-a", runtime.toString(), copy.toString()).start();
    assertThat(cp.waitFor()).isZero();
    List<String> unit = Files.readAllLines(REPO.resolve("deploy/systemd/kubeos-health.service"));
    String exec = value(unit, "ExecStart=").replace(NODE_RUNTIME, copy.toString());
    Path workDir = Path.of(value(unit, "WorkingDirectory=").replace(NODE_RUNTIME, copy.toString()));
    List<String> argv = new ArrayList<>(List.of(exec.split("\\s+")));
    assertThat(argv).contains("-XX:SharedArchiveFile=" + copy.resolve("kubeos.jsa"));
    assertThat(argv.subList(argv.size() - 2, argv.size())).containsExactly("agent", "health");
    argv.add(1, "-Xshare:on");
    Path disk = TestDisks.create(dir.resolve("disk.img"), 2, 32, 8);
    List<String> options =
        List.of(
            "--disk",
            disk.toString(),
            "--boot-dir",
            dir.resolve("esp").toString(),
            "--state-dir",
            dir.resolve("state").toString(),
            "--booted-slot",
            "A",
            "--health-config",
            dir.resolve("health.json").toString());
    argv.addAll(argv.size() - 1, options);
    argv.add("--no-reboot");
    List<String> init = new ArrayList<>(argv.subList(0, argv.size() - 2));
    init.addAll(List.of("init", "--version", "v1"));
    assertThat(run(init, workDir, "init")).as(Files.readString(dir.resolve("init.log"))).isZero();

    Files.writeString(dir.resolve("health.json"), check("true"));
    assertThat(run(argv, workDir, "pass")).as(Files.readString(dir.resolve("pass.log"))).isZero();
    assertThat(Files.readString(dir.resolve("pass.log"))).contains("health passed 1 checks");

    Files.writeString(dir.resolve("health.json"), check("false"));
    assertThat(run(argv, workDir, "fail")).isEqualTo(ErrorCode.HEALTH_FAILED.exitStatus());
    assertThat(Files.readString(dir.resolve("fail.log"))).contains("health failed");
  }

  private static String check(String command) {
    return "{\"deadlineSeconds\": 2, \"intervalSeconds\": 1, \"checks\": [{\"type\": \"command\","
        + " \"argv\": [\""
        + command
        + "\"], \"deadlineSeconds\": 2}]}";
  }

  private static String value(List<String> unit, String key) {
    return unit.stream()
        .filter(l -> l.startsWith(key))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + key))
        .substring(key.length());
  }

  private int run(List<String> argv, Path workDir, String name) throws Exception {
    Process p =
        new ProcessBuilder(argv)
            .directory(workDir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve(name + ".log").toFile())
            .start();
    assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
    return p.exitValue();
  }
}
