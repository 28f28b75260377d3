package dev.kubeos.oci.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.digest.Sha256;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class OsArtifactTest {
  static final Descriptor RAW =
      new Descriptor(MediaTypes.KUBEOS_ROOTFS_RAW, Sha256.parse("11".repeat(32)), 1 << 30, null);
  static final Descriptor INDEX =
      new Descriptor(
          MediaTypes.KUBEOS_ROOTFS_CHUNKIDX, Sha256.parse("22".repeat(32)), 1_661_885, null);
  static final Descriptor CONFIG =
      new Descriptor(MediaTypes.KUBEOS_OS_CONFIG, Sha256.parse("33".repeat(32)), 120, null);

  static ManifestDocument parse(byte[] m) {
    return ManifestDocument.parse(m, null, "test");
  }

  @Test
  void theBuiltManifestReadsBackAsAnArtifactWithBothLayers() throws Exception {
    byte[] m =
        OsArtifact.manifest(CONFIG, RAW, "rootfs-2.img", INDEX, "rootfs-2.img.chunkidx", "2");
    ManifestDocument doc = parse(m);

    assertThat(OsArtifact.is(doc)).isTrue();
    OsArtifact a = OsArtifact.of(doc, "test");
    assertThat(a.image()).isEqualTo(RAW);
    assertThat(a.chunkIndex()).contains(INDEX);
    JsonNode json = new ObjectMapper().readTree(m);
    assertThat(json.path("artifactType").asText()).isEqualTo(MediaTypes.KUBEOS_OS_ARTIFACT);
    assertThat(
            json.path("layers")
                .path(0)
                .path("annotations")
                .path("org.opencontainers.image.title")
                .asText())
        .isEqualTo("rootfs-2.img");
    assertThat(json.path("annotations").path("org.opencontainers.image.version").asText())
        .isEqualTo("2");
  }

  @Test
  void withoutAnIndexOnlyTheWholeImageIsThere() {
    OsArtifact a =
        OsArtifact.of(parse(OsArtifact.manifest(CONFIG, RAW, "r.img", null, null, "2")), "t");
    assertThat(a.chunkIndex()).isEmpty();
  }

  @Test
  void anOrdinaryImageIsNotAnArtifact() {
    String m =
        "{\"schemaVersion\":2,\"mediaType\":\""
            + MediaTypes.OCI_MANIFEST
            + "\",\"config\":{\"mediaType\":\""
            + MediaTypes.OCI_CONFIG
            + "\",\"digest\":\"sha256:"
            + "33".repeat(32)
            + "\",\"size\":2},\"layers\":[]}";
    assertThat(OsArtifact.is(parse(m.getBytes(StandardCharsets.UTF_8)))).isFalse();
  }

  @Test
  void anArtifactWithoutARawLayerOrWithTwoIsRefused() {
    ManifestDocument onlyIndex =
        parse(OsArtifact.manifest(CONFIG, INDEX, "x", null, null, "2")); // index as the only layer
    assertThatThrownBy(() -> OsArtifact.of(onlyIndex, "image x"))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.PAYLOAD_INVALID))
        .hasMessageContaining("no layer of media type " + MediaTypes.KUBEOS_ROOTFS_RAW);
    ManifestDocument twoRaw = parse(OsArtifact.manifest(CONFIG, RAW, "a", RAW, "b", "2"));
    assertThatThrownBy(() -> OsArtifact.of(twoRaw, "image x"))
        .hasMessageContaining("two raw image layers");
  }
}
