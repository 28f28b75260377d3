package dev.kubeos.image.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.oci.model.ImageReference;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegistryPublisherTest {
  @TempDir Path dir;

  @Test
  void theTagDefaultsToTheVersionMadeTagSafe() {
    ImageReference r = RegistryPublisher.target("127.0.0.1:5000/kubeos/os", "1.0.0+build~1");
    assertThat(r.registry()).isEqualTo("127.0.0.1:5000");
    assertThat(r.repository()).isEqualTo("kubeos/os");
    assertThat(r.tag()).isEqualTo("1.0.0_build_1");
    assertThat(RegistryPublisher.target("127.0.0.1:5000/kubeos/os:stable", "2").tag())
        .isEqualTo("stable");
    assertThat(RegistryPublisher.target("127.0.0.1:5000/os", "-rc").tag()).isEqualTo("v-rc");
  }

  @Test
  void aDigestIsNotAPushTarget() {
    assertThatThrownBy(
            () ->
                RegistryPublisher.target("127.0.0.1:5000/kubeos/os@sha256:" + "a".repeat(64), "1"))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST))
        .hasMessageContaining("not a digest");
  }

  @Test
  void theLayerIsOneTarEntryOsTarWithTheTarballsBytesAndTheSameBytesEveryTime() throws Exception {
    Path tarball = dir.resolve("rootfs.tar");
    byte[] content = new byte[100_000];
    new java.util.Random(1).nextBytes(content);
    Files.write(tarball, content);
    ByteArrayOutputStream a = new ByteArrayOutputStream();
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    RegistryPublisher.writeLayer(tarball, content.length, a);
    RegistryPublisher.writeLayer(tarball, content.length, b);
    assertThat(a.toByteArray()).isEqualTo(b.toByteArray());
    try (TarArchiveInputStream in =
        new TarArchiveInputStream(new ByteArrayInputStream(a.toByteArray()))) {
      TarArchiveEntry e = in.getNextEntry();
      assertThat(e.getName()).isEqualTo("os.tar");
      assertThat(e.isFile()).isTrue();
      assertThat(in.readAllBytes()).isEqualTo(content);
      assertThat(in.getNextEntry()).isNull();
    }
  }

  @Test
  void aTarballThatChangedSizeIsRefused() throws Exception {
    Path tarball = dir.resolve("rootfs.tar");
    Files.write(tarball, new byte[10]);
    assertThatThrownBy(
            () ->
                RegistryPublisher.writeLayer(tarball, 11, java.io.OutputStream.nullOutputStream()))
        .hasMessageContaining("changed while it was being pushed");
  }
}
