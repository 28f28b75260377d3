package dev.kubeos.image.build;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent units the image builder writes for the runtime it ships: the daemon's self-made CDS
 * archive only where the runtime's Java knows {@code -XX:+AutoCreateSharedArchive}
 * (AgentUnitFlagsIT starts the result on a real Java 17).
 */
class AgentUnitsForRuntimeTest {
  @TempDir Path dir;

  @Test
  void theRuntimesJavaVersionComesFromItsReleaseFile() throws Exception {
    assertThat(OsCustomizer.javaFeature(dir)).as("no release file").isZero();
    Files.writeString(dir.resolve("release"), "IMPLEMENTOR=\"x\"\nJAVA_VERSION=\"17.0.15\"\n");
    assertThat(OsCustomizer.javaFeature(dir)).isEqualTo(17);
    Files.writeString(dir.resolve("release"), "JAVA_VERSION=\"25\"\n");
    assertThat(OsCustomizer.javaFeature(dir)).isEqualTo(25);
  }

  @Test
  void aJava17RuntimesDaemonUnitGoesWithoutItsOwnArchiveAndNothingElseChanges() throws Exception {
    String agent = shipped("kubeos-agent.service");
    String for17 = OsCustomizer.unitFor("kubeos-agent.service", agent, 17);
    assertThat(exec(agent)).contains("-XX:+AutoCreateSharedArchive", "-XX:SharedArchiveFile=");
    assertThat(exec(for17))
        .doesNotContain("SharedArchive")
        .isEqualTo(
            exec(agent)
                .replace(" -XX:+AutoCreateSharedArchive", "")
                .replaceAll(" -XX:SharedArchiveFile=\\S+", ""));
    assertThat(for17.lines().filter(l -> !l.startsWith("ExecStart=") && !l.startsWith("# Java 17")))
        .containsExactlyElementsOf(agent.lines().filter(l -> !l.startsWith("ExecStart=")).toList());

    assertThat(OsCustomizer.unitFor("kubeos-agent.service", agent, 19)).isEqualTo(agent);
    assertThat(OsCustomizer.unitFor("kubeos-agent.service", agent, 0)).isEqualTo(agent);
    String health = shipped("kubeos-health.service");
    assertThat(OsCustomizer.unitFor("kubeos-health.service", health, 17)).isEqualTo(health);
  }

  private static String exec(String unit) {
    return unit.lines().filter(l -> l.startsWith("ExecStart=")).findFirst().orElseThrow();
  }

  private static String shipped(String unit) throws Exception {
    try (InputStream in =
        OsCustomizer.class.getResourceAsStream("/dev/kubeos/image/systemd/" + unit)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
