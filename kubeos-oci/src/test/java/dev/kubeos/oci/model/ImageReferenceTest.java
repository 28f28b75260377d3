package dev.kubeos.oci.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ImageReferenceTest {
  static final String HEX = "0123456789abcdef".repeat(4);

  @ParameterizedTest
  @CsvSource({
    "busybox, docker.io, library/busybox, latest",
    "kubeos/os:v2, docker.io, kubeos/os, v2",
    "docker.io/library/busybox:1.36, docker.io, library/busybox, 1.36",
    "index.docker.io/kubeos/os, docker.io, kubeos/os, latest",
    "127.0.0.1:5000/kubeos/os:v2, 127.0.0.1:5000, kubeos/os, v2",
    "localhost/os, localhost, os, latest",
    "registry.example.com/a/b/c:1.0-rc_1, registry.example.com, a/b/c, 1.0-rc_1",
    "[::1]:5000/os:v1, [::1]:5000, os, v1",
  })
  void appliesDockerDefaults(String text, String registry, String repository, String tag) {
    ImageReference r = ImageReference.parse(text);
    assertThat(r.registry()).isEqualTo(registry);
    assertThat(r.repository()).isEqualTo(repository);
    assertThat(r.tag()).isEqualTo(tag);
    assertThat(r.digest()).isNull();
    assertThat(r.manifestReference()).isEqualTo(tag);
  }

  @Test
  void digestWinsOverTagForTheManifestAndDockerHubHasItsApiHost() {
    ImageReference r = ImageReference.parse("kubeos/os:v2@sha256:" + HEX.toUpperCase());
    assertThat(r.tag()).isEqualTo("v2");
    assertThat(r.digest().hex()).isEqualTo(HEX);
    assertThat(r.manifestReference()).isEqualTo("sha256:" + HEX);
    assertThat(r.apiHost()).isEqualTo("registry-1.docker.io");
    assertThat(r).hasToString("docker.io/kubeos/os:v2@sha256:" + HEX);
    ImageReference byDigest = ImageReference.parse("127.0.0.1:5000/os@sha256:" + HEX);
    assertThat(byDigest.tag()).isNull();
    assertThat(byDigest.apiHost()).isEqualTo("127.0.0.1:5000");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "https://127.0.0.1:5000/os:v1",
        "Kubeos/OS:v1",
        "os:",
        "os:-bad",
        "os@sha256:abc",
        "os@md5:" + "00000000000000000000000000000000",
        "a//b",
        "127.0.0.1:5000/os:v1:v2"
      })
  void refusesMalformedReferences(String text) {
    assertThatThrownBy(() -> ImageReference.parse(text))
        .isInstanceOf(AgentException.class)
        .hasMessageContaining("invalid image reference")
        .extracting(e -> ((AgentException) e).code())
        .isEqualTo(ErrorCode.INVALID_REQUEST);
  }
}
