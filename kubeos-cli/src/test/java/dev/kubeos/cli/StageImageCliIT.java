package dev.kubeos.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.oci.RegistryClient;
import dev.kubeos.oci.RegistryOptions;
import dev.kubeos.oci.model.Descriptor;
import dev.kubeos.oci.model.ImageReference;
import dev.kubeos.oci.model.MediaTypes;
import dev.kubeos.oci.source.FetchOptions;
import dev.kubeos.testing.RegistryServer;
import dev.kubeos.testing.TestDisks;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code kubeos agent stage --image} against Debian's docker-registry on 127.0.0.1. */
class StageImageCliIT {
  @TempDir Path dir;
  final StringWriter out = new StringWriter();
  final StringWriter err = new StringWriter();

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
                "--registry-hosts-dir",
                dir.resolve("certs.d").toString(),
                "--docker-config",
                dir.resolve("config.json").toString()));
    all.addAll(List.of(args));
    CommandLine cl = Main.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    return cl.execute(all.toArray(String[]::new));
  }

  @Test
  void stagesAnUpstreamStyleImageFromARegistry() throws IOException {
    Path disk = TestDisks.create(dir.resolve("disk.img"), 2, 32, 8);
    try (RegistryServer registry = RegistryServer.start(dir.resolve("registry"))) {
      Sha256 digest = pushOsImage(registry.host(), "KubeOS v2");
      assertThat(agent(disk, "init", "--version", "v1")).isZero();
      String ref = registry.host() + "/kubeos/os:v2";

      assertThat(agent(disk, "stage", "--image", ref, "--sha256", digest.hex(), "--version", "v2"))
          .as("https is the default; this registry speaks http")
          .isEqualTo(69);
      assertThat(err.toString()).contains("DOWNLOAD_FAILED", "--insecure-registry");

      int rc =
          agent(
              disk,
              "stage",
              "--image",
              ref,
              "--sha256",
              digest.toString(),
              "--version",
              "v2",
              "--insecure-registry");

      assertThat(rc).as(err.toString()).isZero();
      assertThat(out.toString()).contains("staged v2 from image " + ref, digest.toString());
      assertThat(
              TestDisks.debugfs(disk, TestDisks.partition(disk, "ROOT-B"), "cat /etc/os-release"))
          .contains("KubeOS v2");
      assertThat(
              agent(
                  disk,
                  "stage",
                  "--image",
                  ref,
                  "--url",
                  "file:///x",
                  "--sha256",
                  digest.hex(),
                  "--version",
                  "v2"))
          .isEqualTo(2);
    }
  }

  private static Sha256 pushOsImage(String host, String pretty) throws IOException {
    RegistryClient client =
        RegistryClient.forImage(
            ImageReference.parse(host + "/kubeos/os"),
            RegistryOptions.defaults().withHostsDir(Path.of("/nonexistent")),
            FetchOptions.defaults().withInsecure(true));
    byte[] osTar =
        tar(
            "etc/os-release",
            ("PRETTY_NAME=\"" + pretty + "\"\n").getBytes(StandardCharsets.UTF_8));
    byte[] layer = tar("os.tar", osTar);
    Descriptor l = client.pushBlob("kubeos/os", layer, MediaTypes.OCI_LAYER);
    Descriptor c =
        client.pushBlob(
            "kubeos/os",
            "{\"architecture\":\"amd64\",\"os\":\"linux\"}".getBytes(StandardCharsets.UTF_8),
            MediaTypes.OCI_CONFIG);
    String manifest =
        "{\"schemaVersion\":2,\"mediaType\":\""
            + MediaTypes.OCI_MANIFEST
            + "\",\"config\":"
            + json(c)
            + ",\"layers\":["
            + json(l)
            + "]}";
    return client.pushManifest(
        "kubeos/os", "v2", manifest.getBytes(StandardCharsets.UTF_8), MediaTypes.OCI_MANIFEST);
  }

  private static String json(Descriptor d) {
    return "{\"mediaType\":\""
        + d.mediaType()
        + "\",\"digest\":\""
        + d.digest()
        + "\",\"size\":"
        + d.size()
        + "}";
  }

  private static byte[] tar(String name, byte[] content) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
      if (name.contains("/")) {
        TarArchiveEntry d = new TarArchiveEntry(name.substring(0, name.indexOf('/') + 1));
        d.setMode(040755);
        tar.putArchiveEntry(d);
        tar.closeArchiveEntry();
      }
      TarArchiveEntry e = new TarArchiveEntry(name);
      e.setSize(content.length);
      e.setMode(0100644);
      tar.putArchiveEntry(e);
      tar.write(content);
      tar.closeArchiveEntry();
    }
    return bytes.toByteArray();
  }
}
