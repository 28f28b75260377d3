package dev.kubeos.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubeos.formats.trust.TrustPolicy;
import dev.kubeos.testing.TestDisks;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** keygen, sign and verify as a release engineer runs them, and a node that requires them. */
class SignCommandsIT {
  @TempDir Path dir;
  StringWriter out = new StringWriter();
  StringWriter err = new StringWriter();

  int run(String... args) {
    out = new StringWriter();
    err = new StringWriter();
    CommandLine cl = Main.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    return cl.execute(args);
  }

  @Test
  void keygenSignVerifyAndANodeThatRequiresSignatures() throws IOException {
    Path keys = dir.resolve("keys");
    assertThat(run("image", "keygen", "--output", keys.toString())).isZero();
    assertThat(out.toString()).contains("release.key", "release.pub", "fingerprint sha256:");
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(keys.resolve("release.key"))))
        .isEqualTo("rw-------");
    assertThat(Files.readString(keys.resolve("release.key"))).startsWith("-----BEGIN PRIVATE KEY");
    assertThat(Files.readString(keys.resolve("release.pub"))).startsWith("-----BEGIN PUBLIC KEY");
    assertThat(run("image", "keygen", "--output", keys.toString())).isEqualTo(9);
    assertThat(err.toString()).contains("refusing to replace a signing key");
    assertThat(run("image", "keygen", "--output", keys.toString(), "--name", "other")).isZero();

    Path payload = dir.resolve("rootfs-v2.img");
    Files.write(payload, new byte[1 << 20]);
    String sha = TestDisks.run("sha256sum", payload.toString()).substring(0, 64);
    assertThat(
            run(
                "image",
                "sign",
                "--key",
                keys.resolve("release.key").toString(),
                "--version",
                "v2",
                payload.toString()))
        .isZero();
    assertThat(out.toString()).contains("sha256:" + sha, payload + ".sig");

    String pub = keys.resolve("release.pub").toString();
    assertThat(run("image", "verify", "--key", pub, "--version", "v2", payload.toString()))
        .isZero();
    assertThat(out.toString()).contains("signature by release.pub (sha256:", "verified");
    assertThat(
            run(
                "image",
                "verify",
                "--key",
                keys.resolve("other.pub").toString(),
                payload.toString()))
        .isEqualTo(77);
    assertThat(err.toString()).contains("SIGNATURE_REJECTED", "not signed by any trusted key");
    assertThat(run("image", "verify", "--key", pub, "--version", "v3", payload.toString()))
        .isEqualTo(77);
    assertThat(err.toString()).contains("for version v2, not for the requested version v3");

    // a node whose image trusts release.pub and requires signatures
    Path trust = dir.resolve("trust");
    Files.createDirectories(trust);
    Files.copy(keys.resolve("release.pub"), trust.resolve("release.pub"));
    Files.writeString(
        trust.resolve(TrustPolicy.FILE), new TrustPolicy(true, List.of("release.pub")).toJson());
    Path disk = TestDisks.create(dir.resolve("disk.img"), 2, 32, 8);
    List<String> agent =
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
            trust.toString());
    assertThat(run(args(agent, "init", "--version", "v1"))).isZero();

    Path unsigned = dir.resolve("unsigned.img");
    Files.copy(payload, unsigned);
    List<String> stageUnsigned =
        List.of("stage", "--url", unsigned.toUri().toString(), "--sha256", sha, "--version", "v2");
    assertThat(run(args(agent, stageUnsigned.toArray(String[]::new)))).isEqualTo(77);
    assertThat(err.toString())
        .contains("SIGNATURE_REJECTED", "caller should roll back", "release.pub (sha256:", sha);

    assertThat(
            run(
                args(
                    agent,
                    "stage",
                    "--url",
                    payload.toUri().toString(),
                    "--sha256",
                    sha,
                    "--version",
                    "v2")))
        .isZero();
    assertThat(out.toString()).contains("staged v2");
  }

  private static String[] args(List<String> prefix, String... rest) {
    List<String> all = new ArrayList<>(prefix);
    all.addAll(List.of(rest));
    return all.toArray(String[]::new);
  }
}
