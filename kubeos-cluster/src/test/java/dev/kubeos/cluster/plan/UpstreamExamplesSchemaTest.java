package dev.kubeos.cluster.plan;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every upstream example validates against our OS CRD's schema (deploy/crds), as the API would. */
class UpstreamExamplesSchemaTest {
  static CrdSchema schema;

  @BeforeAll
  static void read() throws IOException {
    schema = CrdSchema.read(Path.of("..", "deploy", "crds", "os.upgrade.openeuler.org-v1.yml"));
  }

  static List<String> files() {
    return UpstreamExamples.FILES;
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> raw(String file) throws IOException {
    try (InputStream in =
        UpstreamExamplesSchemaTest.class.getResourceAsStream("/upstream-examples/" + file)) {
      return new KubernetesSerialization().unmarshal(in, Map.class);
    }
  }

  @ParameterizedTest
  @MethodSource("files")
  void validatesAgainstOurCrd(String file) throws IOException {
    assertThat(schema.validate(raw(file))).isEmpty();
  }

  @Test
  @SuppressWarnings("unchecked")
  void theValidatorRefusesWhatTheApiServerWould() throws IOException {
    Map<String, Object> os = raw("upgrade-docker.yaml");
    Map<String, Object> spec = new LinkedHashMap<>((Map<String, Object>) os.get("spec"));
    spec.put("imagetype", "iso");
    spec.put("maxunavailable", "two");
    spec.put("dockerimage", "");
    spec.remove("opstype");
    os.put("spec", spec);
    assertThat(schema.validate(os))
        .anyMatch(p -> p.startsWith(".spec.imagetype: 'iso' does not match"))
        .anyMatch(p -> p.startsWith(".spec.maxunavailable: String 'two'"))
        .anyMatch(p -> p.startsWith(".spec.dockerimage: not in the schema"))
        .anyMatch(p -> p.equals(".spec: required member opstype is missing"));
  }
}
