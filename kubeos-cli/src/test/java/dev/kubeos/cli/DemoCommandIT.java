package dev.kubeos.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kubeos demo --quick}: the file-backed demo still works for hosts without root or QEMU;
 * {@code --cluster} from the jar says it runs through the checkout's launcher.
 */
class DemoCommandIT {
  @TempDir Path dir;

  @Test
  void quickDemoMovesTheFileBackedNodeToV2() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream old = System.out;
    int rc;
    System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    try {
      rc =
          Main.commandLine()
              .execute("demo", "--quick", "--work-dir", dir.resolve("work").toString());
    } finally {
      System.setOut(old);
    }
    String out = bytes.toString(StandardCharsets.UTF_8);
    assertThat(rc).as(out).isZero();
    assertThat(out)
        .contains(
            "the node moved from v1 (slot A) to v2 (slot B), committed after its health check");
    assertThat(dir.resolve("work/disk.img")).isRegularFile();
    assertThat(Files.size(dir.resolve("work/disk.img"))).isEqualTo(1L << 30);
  }

  @Test
  void theClusterDemoFromTheJarSaysWhereItRuns() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream old = System.err;
    int rc;
    System.setErr(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    try {
      rc = Main.commandLine().execute("demo", "--cluster");
    } finally {
      System.setErr(old);
    }
    assertThat(rc).isEqualTo(2);
    assertThat(bytes.toString(StandardCharsets.UTF_8))
        .contains("./kubeos demo --cluster", "mock API server");
  }
}
