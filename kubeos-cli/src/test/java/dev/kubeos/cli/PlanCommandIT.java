package dev.kubeos.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kubeos.api.Json;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URISyntaxException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code kubeos plan} against a fixture cluster file (kubectl get ... -A -o yaml output). */
class PlanCommandIT {
  static Path fixture(String name) throws URISyntaxException {
    return Path.of(PlanCommandIT.class.getResource("/plan/" + name).toURI());
  }

  static String[] run(String... args) {
    CommandLine cl = Main.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int code = cl.execute(args);
    return new String[] {String.valueOf(code), out.toString(), err.toString()};
  }

  @Test
  void jsonListsBatchesAndSkipReasons() throws Exception {
    String[] r =
        run(
            "plan",
            "-f",
            fixture("os.yaml").toString(),
            "--nodes",
            fixture("cluster.yaml").toString(),
            "--now",
            "2026-03-02T23:00:00Z",
            "--json");
    assertThat(r[0]).as(r[2]).isEqualTo("0");
    JsonNode doc = Json.mapper().readTree(r[1]);
    // w5 is NotReady and counts against maxunavailable 2, so one node at a time
    assertThat(doc.get("batches").toString()).isEqualTo("[[\"w1\"],[\"w2\"]]");
    JsonNode skipped = doc.get("skipped");
    assertThat(skipped.get("w3").asText()).contains("no OSInstance");
    assertThat(skipped.get("w4").asText()).contains("spec.nodeselector is 'no-label'");
    assertThat(skipped.get("w5").asText()).contains("NotReady");
    assertThat(skipped.get("cp-1").asText()).contains("spec.controlplane");
    assertThat(skipped.has("w1")).isFalse();
  }

  @Test
  void textShowsTimesAndTheEndState() throws Exception {
    String[] r =
        run(
            "plan",
            "-f",
            fixture("os.yaml").toString(),
            "--nodes",
            fixture("cluster.yaml").toString(),
            "--now",
            "2026-03-02T23:00:00Z");
    assertThat(r[0]).isEqualTo("0");
    assertThat(r[1])
        .contains("OS os-sample: upgrade to KubeOS 2.0.0 over 6 nodes (maxunavailable 2")
        .contains("batch 1 at 2026-03-02T23:00:00Z: w1")
        .contains("batch 2 at 2026-03-02T23:00:15Z: w2")
        .contains("  w5: node is NotReady");
  }

  @Test
  void badInputIsReportedReadably() throws Exception {
    String[] r =
        run(
            "plan",
            "-f",
            fixture("cluster.yaml").toString(),
            "--nodes",
            fixture("cluster.yaml").toString());
    assertThat(r[0]).isEqualTo("2");
    assertThat(r[2]).contains("kubeos: ").contains("cluster.yaml");
    String[] when =
        run(
            "plan",
            "-f",
            fixture("os.yaml").toString(),
            "--nodes",
            fixture("cluster.yaml").toString(),
            "--now",
            "tonight");
    assertThat(when[2]).contains("--now 'tonight' is not an RFC 3339 instant");
  }
}
