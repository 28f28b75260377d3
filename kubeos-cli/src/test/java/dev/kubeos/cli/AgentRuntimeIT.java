package dev.kubeos.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kubeos.formats.signing.Keys;
import dev.kubeos.formats.signing.Signatures;
import dev.kubeos.testing.PayloadServer;
import dev.kubeos.testing.TestPki;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's runtime as scripts/build-agent-runtime.sh links it with Java 17, the only JDK a fresh
 * Debian 12 has: the agent checks ECDSA signatures and fetches over TLS from servers with EC
 * certificates, and on Java 17 the EC provider is the module jdk.crypto.ec, which jdeps cannot see
 * (it is a service), so scripts/agent-runtime.modules must name it.
 */
class AgentRuntimeIT {
  private static final Path REPO = Path.of(System.getProperty("user.dir")).getParent();

  @TempDir Path dir;

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
    Path jdk = jdk17();
    assumeTrue(Files.isExecutable(jdk.resolve("bin/jlink")), "no Java 17 jlink at " + jdk);
    Path agentJar = REPO.resolve("kubeos-cli/target/kubeos-agent.jar");
    assertThat(agentJar).as("the agent jar (package)").isRegularFile();
    Path runtime = dir.resolve("runtime");
    ProcessBuilder build =
        new ProcessBuilder(
                REPO.resolve("scripts/build-agent-runtime.sh").toString(), runtime.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("link.log").toFile());
    build.environment().put("JLINK_JDK", jdk.toString());
    Process link = build.start();
    assertThat(link.waitFor(5, TimeUnit.MINUTES)).isTrue();
    assertThat(link.exitValue()).as(Files.readString(dir.resolve("link.log"))).isZero();

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
}
