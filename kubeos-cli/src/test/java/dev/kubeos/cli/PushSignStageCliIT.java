package dev.kubeos.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubeos.formats.trust.TrustPolicy;
import dev.kubeos.testing.RegistryServer;
import dev.kubeos.testing.TestDisks;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The release flow through the CLI against Debian's docker-registry on 127.0.0.1: {@code kubeos
 * image build --push} publishes the os.tar image and the raw artifact, {@code kubeos image sign
 * --image} pushes cosign signatures, and a node whose trust policy requires signatures refuses each
 * payload until it is signed, then stages it ({@code kubeos agent stage --image}).
 */
class PushSignStageCliIT {
  @TempDir Path dir;
  final StringWriter out = new StringWriter();
  final StringWriter err = new StringWriter();

  int run(String... args) {
    out.getBuffer().setLength(0);
    err.getBuffer().setLength(0);
    CommandLine cl = Main.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    return cl.execute(args);
  }

  int agent(Path disk, String... args) {
    List<String> all =
        new ArrayList<>(
            List.of(
                "agent",
                "--disk",
                disk.toString(),
                "--boot-dir",
                dir.resolve("esp").toString(),
                "--state-dir",
                dir.resolve("state").toString(),
                "--booted-slot",
                "a",
                "--trust-dir",
                dir.resolve("trust").toString(),
                "--registry-hosts-dir",
                dir.resolve("certs.d").toString(),
                "--docker-config",
                dir.resolve("config.json").toString()));
    all.addAll(List.of(args));
    return run(all.toArray(String[]::new));
  }

  Path config() throws IOException {
    Path tree = dir.resolve("tree");
    Files.createDirectories(tree.resolve("etc"));
    Files.writeString(tree.resolve("etc/passwd"), "root:x:0:0:pushed:/root:/bin/sh\n");
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

  static String digestAfter(String text, String label) {
    Matcher m =
        Pattern.compile(Pattern.quote(label) + "\\s+(\\S+)@sha256:([0-9a-f]{64})").matcher(text);
    assertThat(m.find()).as(label + " in " + text).isTrue();
    return m.group(2);
  }

  @Test
  void buildPushesBothPayloadsAndSignedOnesStageOnATrustingNode() throws IOException {
    try (RegistryServer registry = RegistryServer.start(dir.resolve("registry"))) {
      String repo = registry.host() + "/kubeos/os";
      int rc =
          run(
              "image",
              "build",
              config().toString(),
              "-o",
              dir.resolve("out").toString(),
              "--cache-dir",
              dir.resolve("cache").toString(),
              "--push",
              repo,
              "--insecure-registry",
              "--docker-config",
              dir.resolve("config.json").toString());
      assertThat(rc).as(err.toString()).isZero();
      String built = out.toString();
      assertThat(built).contains("pushed in", repo + ":2.5.1@", repo + ":2.5.1-raw@");
      String osImage = digestAfter(built, "OS image (/os.tar)");
      String artifact = digestAfter(built, "OS artifact (raw)");
      assertThat(built).contains("checksum " + osImage, "--sha256 " + artifact);

      assertThat(run("image", "keygen", "-o", dir.resolve("keys").toString())).isZero();
      Path trust = Files.createDirectories(dir.resolve("trust"));
      Files.copy(dir.resolve("keys/release.pub"), trust.resolve("release.pub"));
      Files.writeString(
          trust.resolve(TrustPolicy.FILE), new TrustPolicy(true, List.of("release.pub")).toJson());
      Path disk = TestDisks.create(dir.resolve("disk.img"), 2, 32, 8);
      assertThat(agent(disk, "init", "--version", "v1")).as(err.toString()).isZero();

      String[] stageArtifact = {
        "stage",
        "--image",
        repo + ":2.5.1-raw",
        "--sha256",
        artifact,
        "--version",
        "2.5.1",
        "--insecure-registry"
      };
      assertThat(agent(disk, stageArtifact)).isNotZero();
      assertThat(err.toString())
          .contains("SIGNATURE_REJECTED", "sha256-" + artifact + ".sig", "kubeos image sign");

      rc =
          run(
              "image",
              "sign",
              "--key",
              dir.resolve("keys/release.key").toString(),
              "--image",
              repo + ":2.5.1-raw",
              "--version",
              "2.5.1",
              "--insecure-registry",
              "--docker-config",
              dir.resolve("config.json").toString());
      assertThat(rc).as(err.toString()).isZero();
      assertThat(out.toString())
          .contains("signed " + repo + "@sha256:" + artifact, ":sha256-" + artifact + ".sig");

      assertThat(agent(disk, stageArtifact)).as(err.toString()).isZero();
      assertThat(out.toString()).contains("staged 2.5.1 from image " + repo + ":2.5.1-raw");
      assertThat(TestDisks.debugfs(disk, TestDisks.partition(disk, "ROOT-B"), "cat /etc/passwd"))
          .contains("root:x:0:0:pushed");

      // the upstream-compatible image: signed by digest, staged like docker/containerd types
      String[] stageOsTar = {
        "stage",
        "--image",
        repo + ":2.5.1",
        "--sha256",
        osImage,
        "--version",
        "2.5.1",
        "--insecure-registry"
      };
      assertThat(agent(disk, stageOsTar)).isNotZero();
      assertThat(err.toString()).contains("SIGNATURE_REJECTED");
      rc =
          run(
              "image",
              "sign",
              "--key",
              dir.resolve("keys/release.key").toString(),
              "--image",
              repo + "@sha256:" + osImage,
              "--insecure-registry",
              "--docker-config",
              dir.resolve("config.json").toString());
      assertThat(rc).as(err.toString()).isZero();
      assertThat(agent(disk, stageOsTar)).as(err.toString()).isZero();
      assertThat(TestDisks.debugfs(disk, TestDisks.partition(disk, "ROOT-B"), "cat /etc/passwd"))
          .contains("root:x:0:0:pushed");
    }
  }
}
