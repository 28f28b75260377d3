package dev.kubeos.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kubeos.api.Json;
import dev.kubeos.formats.chunk.io.ChunkIndexFiles;
import dev.kubeos.testing.TestDisks;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The {@code kubeos} command as a user runs it: exit codes, output, help. */
class CliIT {
  @TempDir Path dir;
  String[] global;
  final StringWriter out = new StringWriter();
  final StringWriter err = new StringWriter();

  @BeforeEach
  void disk() throws IOException {
    Path disk = TestDisks.create(dir.resolve("disk.img"), 2, 32, 8);
    global =
        new String[] {
          "agent",
          "--disk",
          disk.toString(),
          "--boot-dir",
          dir.resolve("esp").toString(),
          "--state-dir",
          dir.resolve("state").toString(),
          "--booted-slot",
          "a"
        };
  }

  int run(String... args) {
    CommandLine cl = Main.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    return cl.execute(args);
  }

  int agent(String... args) {
    List<String> all = new ArrayList<>(List.of(global));
    all.addAll(List.of(args));
    return run(all.toArray(String[]::new));
  }

  @Test
  void everyCommandHasHelp() {
    List<String[]> paths = new ArrayList<>();
    collect(Main.commandLine(), new ArrayList<>(), paths);
    assertThat(paths).hasSizeGreaterThanOrEqualTo(11);
    for (String[] path : paths) {
      List<String> args = new ArrayList<>(List.of(path));
      args.add("--help");
      out.getBuffer().setLength(0);
      assertThat(run(args.toArray(String[]::new))).as(String.join(" ", path)).isZero();
      assertThat(out.toString()).as(String.join(" ", path)).contains("Usage: kubeos");
    }
  }

  private static void collect(CommandLine cl, List<String> prefix, List<String[]> into) {
    into.add(prefix.toArray(String[]::new));
    cl.getSubcommands()
        .forEach(
            (name, sub) -> {
              if (!name.equals("help")) {
                List<String> p = new ArrayList<>(prefix);
                p.add(name);
                collect(sub, p, into);
              }
            });
  }

  @Test
  void statusJsonHasTheDocumentedKeys() throws IOException {
    assertThat(agent("init", "--version", "v1")).isZero();
    out.getBuffer().setLength(0);
    assertThat(agent("status", "--json")).isZero();
    JsonNode s = Json.mapper().readTree(out.toString());
    assertThat(s.get("bootedSlot").asText()).isEqualTo("A");
    assertThat(s.get("defaultSlot").asText()).isEqualTo("A");
    assertThat(s.get("trialSlot").isNull()).isTrue();
    assertThat(s.get("nextBootSlot").asText()).isEqualTo("A");
    assertThat(s.at("/slots/A/version").asText()).isEqualTo("v1");
    assertThat(s.at("/slots/A/sha256").isNull()).isTrue();
    assertThat(s.at("/slots/B/version").isNull()).isTrue();
    assertThat(s.at("/slots/B/state").asText()).isEqualTo("EMPTY");
  }

  @Test
  void failuresExitWithTheirCodeAndSayWhatToDo() throws IOException {
    assertThat(agent("init", "--version", "v1")).isZero();
    Path payload = dir.resolve("v2.img");
    Files.write(payload, new byte[1 << 20]);
    int rc =
        agent(
            "stage",
            "--url",
            payload.toUri().toString(),
            "--sha256",
            "ab".repeat(32),
            "--version",
            "v2");
    assertThat(rc).isEqualTo(65);
    assertThat(err.toString()).contains("CHECKSUM_MISMATCH", "caller should roll back");

    err.getBuffer().setLength(0);
    assertThat(agent("activate")).isEqualTo(9);
    assertThat(err.toString()).contains("nothing verified is staged in slot B");

    err.getBuffer().setLength(0);
    assertThat(run("agent", "--booted-slot", "C", "status")).isEqualTo(2);
    assertThat(err.toString()).contains("not a slot: 'C'");
  }

  @Test
  void stagesFromAFileUrlAndReportsHowItVerified() throws IOException {
    assertThat(agent("init", "--version", "v1")).isZero();
    Path payload = dir.resolve("v2.img");
    byte[] bytes = new byte[2 << 20];
    new java.util.Random(5).nextBytes(bytes);
    Files.write(payload, bytes);
    String sha = java.util.HexFormat.of().formatHex(sneakySha(bytes));
    assertThat(
            agent(
                "stage",
                "--url",
                payload.toUri().toString(),
                "--sha256",
                "sha256:" + sha,
                "--version",
                "v2"))
        .isZero();
    assertThat(out.toString()).contains("staged v2: 2097152 bytes", "read back");
  }

  @Test
  void stagesADeltaFromAFileUrlAndDeltaStatsPredictsTheFetchedBytes() throws IOException {
    assertThat(agent("init", "--version", "v1")).isZero();
    byte[] v1 = new byte[4 << 20];
    new java.util.Random(6).nextBytes(v1);
    byte[] v2 = v1.clone();
    byte[] changed = new byte[256 << 10];
    new java.util.Random(7).nextBytes(changed);
    System.arraycopy(changed, 0, v2, 1 << 20, changed.length);
    Path v1File = dir.resolve("v1.img");
    Path v2File = dir.resolve("v2.img");
    Files.write(v1File, v1);
    Files.write(v2File, v2);
    TestDisks.Part a = TestDisks.partition(Path.of(global[2]), "ROOT-A");
    try (java.nio.channels.FileChannel ch =
        java.nio.channels.FileChannel.open(
            Path.of(global[2]), java.nio.file.StandardOpenOption.WRITE)) {
      ch.write(java.nio.ByteBuffer.wrap(v1), a.offsetBytes());
    }
    ChunkIndexFiles.writeIndex(v2File, dev.kubeos.formats.chunk.ChunkerParams.ext4Defaults());

    assertThat(run("image", "delta-stats", v1File.toString(), v2File.toString())).isZero();
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("fetched chunks:\\s+(\\d+) bytes").matcher(out.toString());
    assertThat(m.find()).as(out.toString()).isTrue();
    long predicted = Long.parseLong(m.group(1));
    assertThat(predicted).isBetween((long) changed.length, (long) changed.length + (128 << 10));

    String sha = java.util.HexFormat.of().formatHex(sneakySha(v2));
    assertThat(
            agent(
                "stage",
                "--url",
                ChunkIndexFiles.indexPathFor(v2File).toUri().toString(),
                "--format",
                "delta",
                "--sha256",
                sha,
                "--version",
                "v2"))
        .as(err.toString())
        .isZero();
    assertThat(out.toString())
        .contains("staged v2: 4194304 bytes (fetched " + predicted + " bytes");
  }

  private static byte[] sneakySha(byte[] b) {
    try {
      return java.security.MessageDigest.getInstance("SHA-256").digest(b);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
