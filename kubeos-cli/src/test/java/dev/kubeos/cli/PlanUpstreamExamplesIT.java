package dev.kubeos.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code kubeos plan}, offline, on every upstream example resource of kubeos-cluster's fixtures
 * (upstream-examples/), against the fixture cluster of {@link PlanCommandIT}.
 */
class PlanUpstreamExamplesIT {
  static final Path EXAMPLES =
      Path.of("..", "kubeos-cluster", "src", "test", "resources", "upstream-examples");

  static List<Path> examples() throws IOException {
    try (Stream<Path> files = Files.list(EXAMPLES)) {
      return files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
    }
  }

  @ParameterizedTest
  @MethodSource("examples")
  void plans(Path example) throws Exception {
    String[] r =
        PlanCommandIT.run(
            "plan",
            "-f",
            example.toString(),
            "--nodes",
            PlanCommandIT.fixture("cluster.yaml").toString(),
            "--now",
            "2026-03-02T23:00:00Z");
    assertThat(r[0]).as("%s: %s", example, r[2]).isEqualTo("0");
    assertThat(r[1]).contains("OS os-sample: ").contains(" over 6 nodes");
  }
}
