package dev.kubeos.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kubeos.api.Json;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code kubeos image build} as a user runs it, then the agent's CLI against the built disk. */
class ImageCommandIT {
  @TempDir Path dir;
  final StringWriter out = new StringWriter();
  final StringWriter err = new StringWriter();

  int run(String... args) {
    CommandLine cl = Main.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    return cl.execute(args);
  }

  Path config() throws IOException {
    Path tree = dir.resolve("tree");
    Files.createDirectories(tree.resolve("etc"));
    Files.writeString(tree.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
    Path rt = dir.resolve("rt");
    Files.createDirectories(rt.resolve("bin"));
    Files.writeString(rt.resolve("bin/java"), "#!/bin/sh\n");
    Files.setPosixFilePermissions(
        rt.resolve("bin/java"), PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.writeString(rt.resolve("kubeos.jar"), "jar");
    Path config = dir.resolve("image.toml");
    Files.writeString(
        config,
        "version = \"2.5.1\"\nprofile = \"minimal\"\n[distribution]\nsource = \"directory\"\n"
            + "path = \"tree\"\n"
            + "[partitions]\nesp_mib = 16\nroot_mib = 12\npersist_mib = 8\n"
            + "[agent]\nruntime = \"rt\"\n");
    return config;
  }

  @Test
  void aMissingConfigIsAnErrorWithItsCodeButNoRolloutAction() {
    int rc = run("image", "build", dir.resolve("nope.toml").toString(), "--dry-run");

    assertThat(rc).isEqualTo(2);
    // the action hint is for callers of the agent; an image build has no node to roll back
    assertThat(err.toString()).contains("nope.toml not found", "[INVALID_REQUEST]");
    assertThat(err.toString()).doesNotContain("caller should");
  }

  @Test
  void dryRunPrintsThePlanAndChangesNothing() throws IOException {
    Path config = config();
    int rc =
        run(
            "image",
            "build",
            config.toString(),
            "-o",
            dir.resolve("out").toString(),
            "--cache-dir",
            dir.resolve("cache").toString(),
            "--dry-run");
    assertThat(rc).as(err.toString()).isZero();
    assertThat(out.toString())
        .contains(
            "KubeOS image plan for version 2.5.1", "2 ROOT-A", "dry run: nothing was changed");
    assertThat(dir.resolve("out")).doesNotExist();
    assertThat(dir.resolve("cache")).doesNotExist();
  }

  @Test
  void dryRunOfTheDefaultProfileSaysItIsAContainerHostWithoutAKubelet() throws IOException {
    Path config = config();
    Files.writeString(config, Files.readString(config).replace("profile = \"minimal\"\n", ""));
    int rc = run("image", "build", config.toString(), "--dry-run");
    assertThat(rc).as(err.toString()).isZero();
    assertThat(out.toString())
        .contains("profile:    node -> a container host (containerd, runc, CNI plugins")
        .contains("no kubelet: add a [kubernetes] section to make it a Kubernetes node")
        .contains("health:     /etc/KubeOS/health.json");
  }

  @Test
  void builtDiskReportsSlotAWithTheVersionThroughTheAgent() throws Exception {
    Path config = config();
    Path outDir = dir.resolve("out");
    int rc =
        run(
            "image",
            "build",
            config.toString(),
            "-o",
            outDir.toString(),
            "--cache-dir",
            dir.resolve("cache").toString());
    assertThat(rc).as(err.toString()).isZero();
    assertThat(out.toString()).contains("==> rootfs", "slot-a done in", "built KubeOS 2.5.1");
    Path disk = outDir.resolve("disk.img");
    // ESP out of the image with mtools, agent state out of PERSIST with debugfs: no mounts
    long esp = 2048L * 512;
    long persist = (2048L + (16 + 12 + 12) * 2048L) * 512;
    Path espDir = Files.createDirectories(dir.resolve("esp"));
    exec("mcopy", "-s", "-i", disk + "@@" + esp, "::/kubeos", espDir.toString());
    Path state = Files.createDirectories(dir.resolve("state"));
    exec("debugfs", "-R", "rdump /kubeos " + dir, disk + "?offset=" + persist);
    Files.move(dir.resolve("kubeos/agent-state.json"), state.resolve("agent-state.json"));
    out.getBuffer().setLength(0);
    rc =
        run(
            "agent",
            "--disk",
            disk.toString(),
            "--boot-dir",
            espDir.toString(),
            "--state-dir",
            state.toString(),
            "--booted-slot",
            "A",
            "status",
            "--json");
    assertThat(rc).as(err.toString()).isZero();
    JsonNode s = Json.mapper().readTree(out.toString());
    assertThat(s.path("bootedSlot").asText()).isEqualTo("A");
    assertThat(s.path("defaultSlot").asText()).isEqualTo("A");
    assertThat(s.path("nextBootSlot").asText()).isEqualTo("A");
    assertThat(s.path("slots").path("A").path("version").asText()).isEqualTo("2.5.1");
    assertThat(s.path("slots").path("A").path("state").asText()).isEqualTo("VERIFIED");
    assertThat(s.path("slots").path("B").path("state").asText()).isEqualTo("EMPTY");
  }

  private static void exec(String... argv) throws Exception {
    String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin";
    for (String d : path.split(":")) {
      if (!d.isEmpty() && Files.isExecutable(Path.of(d, argv[0]))) {
        argv[0] = Path.of(d, argv[0]).toString();
        break;
      }
    }
    Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
    String o = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(String.join(" ", argv) + ": " + o).isZero();
  }
}
