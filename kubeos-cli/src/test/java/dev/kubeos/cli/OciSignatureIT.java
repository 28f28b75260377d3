package dev.kubeos.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.formats.signing.Keys;
import dev.kubeos.formats.signing.Signatures;
import dev.kubeos.formats.signing.TrustedKey;
import dev.kubeos.formats.trust.SignatureManifest;
import dev.kubeos.formats.trust.SignedPayload;
import dev.kubeos.testing.TestDisks;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * An OCI payload's signature as cosign stores it: signed with {@code kubeos image sign
 * --oci-digest}, pushed by skopeo to Debian's docker-registry on 127.0.0.1 at tag sha256-HEX.sig,
 * fetched back over the registry API and verified.
 */
class OciSignatureIT {
  static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

  @TempDir Path dir;

  @Test
  void aSignaturePushedWithSkopeoIsFetchedFromTheRegistryAndVerifies() throws Exception {
    Path keys = dir.resolve("keys");
    assertThat(run("image", "keygen", "--output", keys.toString())).isZero();
    Sha256 image = Sha256.parse("c0ffee00".repeat(8));
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    String repo = "127.0.0.1:" + port + "/kubeos/os";
    Path layout = dir.resolve("sig-layout");
    assertThat(
            run(
                "image",
                "sign",
                "--key",
                keys.resolve("release.key").toString(),
                "--oci-digest",
                image.toString(),
                "--reference",
                repo,
                "--oci-layout",
                layout.toString(),
                "--version",
                "2.0"))
        .isZero();
    String tag = SignatureManifest.tag(image);

    Process registry = startRegistry(port);
    try {
      TestDisks.run(
          "skopeo",
          "copy",
          "--dest-tls-verify=false",
          "oci:" + layout + ":" + tag,
          "docker://" + repo + ":" + tag);
      String base = "http://127.0.0.1:" + port + "/v2/kubeos/os/";
      byte[] manifest = get(base + "manifests/" + tag, OCI_MANIFEST);
      List<SignedPayload> sigs =
          SignatureManifest.read(manifest, d -> get(base + "blobs/" + d, null), repo + ":" + tag);
      TrustedKey trusted = Keys.readPublic(keys.resolve("release.pub"));
      Signatures.Verdict ok = Signatures.verify(sigs, List.of(trusted), image, "2.0");
      assertThat(ok.accepted()).isPresent();
      assertThat(ok.accepted().get().statement().dockerReference()).isEqualTo(repo);
      assertThat(Signatures.verify(sigs, List.of(trusted), image, "3.0").accepted()).isEmpty();
      TrustedKey other =
          Keys.parsePublic(Keys.publicPem(Keys.generate().getPublic()), "other.pub", "other");
      assertThat(Signatures.verify(sigs, List.of(other), image, "2.0").accepted()).isEmpty();
    } finally {
      registry.destroy();
      registry.waitFor();
    }
  }

  private Process startRegistry(int port) throws IOException, InterruptedException {
    Path config = dir.resolve("registry.yml");
    Files.writeString(
        config,
        "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: "
            + dir.resolve("registry")
            + "\nhttp:\n  addr: 127.0.0.1:"
            + port
            + "\n");
    Process p =
        new ProcessBuilder("docker-registry", "serve", config.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("registry.log").toFile())
            .start();
    // waits for the registry to answer; the 2 min bound only ends a registry that never starts
    long end = System.nanoTime() + java.time.Duration.ofMinutes(2).toNanos();
    while (System.nanoTime() < end && p.isAlive()) {
      try {
        get("http://127.0.0.1:" + port + "/v2/", null);
        return p;
      } catch (RuntimeException e) {
        Thread.sleep(100);
      }
    }
    p.destroy();
    throw new IllegalStateException(
        "docker-registry did not start: " + Files.readString(dir.resolve("registry.log")));
  }

  private static byte[] get(String url, String accept) {
    try {
      HttpURLConnection c = (HttpURLConnection) URI.create(url).toURL().openConnection();
      if (accept != null) {
        c.setRequestProperty("Accept", accept);
      }
      try (InputStream in = c.getInputStream()) {
        return in.readAllBytes();
      } finally {
        c.disconnect();
      }
    } catch (IOException e) {
      throw new IllegalStateException("GET " + url + ": " + e, e);
    }
  }

  private int run(String... args) {
    CommandLine cl = Main.commandLine();
    StringWriter out = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(out, true));
    int rc = cl.execute(args);
    if (rc != 0) {
      System.err.println(out);
    }
    return rc;
  }
}
