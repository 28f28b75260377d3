package dev.kubeos.agent;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The host agent ships without Kubernetes libraries: fabric8 (and the CRD types built on it) must
 * not reach its class path through kubeos-api. The CRD types live in kubeos-crd for this reason.
 */
class NoKubernetesOnClasspathTest {
  @ParameterizedTest
  @ValueSource(
      strings = {
        "io.fabric8.kubernetes.client.CustomResource",
        "io.fabric8.kubernetes.api.model.Node",
        "dev.kubeos.crd.OS",
        "tools.jackson.databind.ObjectMapper"
      })
  void classIsAbsent(String name) {
    assertThatThrownBy(() -> Class.forName(name)).isInstanceOf(ClassNotFoundException.class);
  }
}
