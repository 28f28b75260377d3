package dev.kubeos.crd;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The helpers that answer, in one place, which node an OSInstance belongs to, whether it is idle,
 * and which namespace an unnamed one means; none of them is a serialized field.
 */
class CrdHelpersTest {
  static OSInstance instance(String name, Map<String, String> labels) {
    OSInstance i = new OSInstance();
    i.getMetadata().setName(name);
    i.getMetadata().setLabels(labels);
    return i;
  }

  @Test
  void anInstanceBelongsToTheNodeItsLabelNamesElseToItsName() {
    assertThat(instance("osi-1", Map.of(OSInstance.NODE_LABEL, "n1")).nodeName()).isEqualTo("n1");
    assertThat(instance("n2", Map.of("other", "x")).nodeName()).isEqualTo("n2");
    assertThat(instance("n3", null).nodeName()).isEqualTo("n3");
  }

  @Test
  void idleMeansNoOperation() {
    assertThat(OSInstanceSpec.idle("idle")).isTrue();
    assertThat(OSInstanceSpec.idle(null)).isTrue();
    assertThat(OSInstanceSpec.idle(" ")).isTrue();
    assertThat(OSInstanceSpec.idle("upgrade")).isFalse();
    assertThat(OSInstanceSpec.idle("rollback")).isFalse();
    OSInstanceSpec spec = new OSInstanceSpec();
    assertThat(spec.idle()).isTrue();
    spec.setNodestatus("config");
    assertThat(spec.idle()).isFalse();
  }

  @Test
  void anUnnamedNamespaceIsUpstreamsDefault() {
    assertThat(Namespaces.DEFAULT).isEqualTo("default");
    assertThat(Namespaces.orDefault(null)).isEqualTo("default");
    assertThat(Namespaces.orDefault("")).isEqualTo("default");
    assertThat(Namespaces.orDefault("kubeos")).isEqualTo("kubeos");

    OS os = new OS();
    os.getMetadata().setName("os-v2");
    assertThat(os.key()).isEqualTo("default/os-v2");
    assertThat(os.instanceNamespace()).isEqualTo("default");
    os.getMetadata().setNamespace("fleet");
    os.getSpec().setOsinstancenamespace("nodes");
    assertThat(os.key()).isEqualTo("fleet/os-v2");
    assertThat(os.instanceNamespace()).isEqualTo("nodes");
    os.setSpec(null);
    assertThat(os.instanceNamespace()).isEqualTo("default");
  }

  @Test
  void anAssignmentLeavesOutWhatItDoesNotSet() {
    OSInstanceSpec spec =
        OSInstanceSpec.assignment(
            "config", new NamespacedName("os-v2", "default"), new SysConfigs("c1"), null);
    String json = new KubernetesSerialization().asJson(spec);
    assertThat(json)
        .isEqualTo(
            "{\"nodestatus\":\"config\",\"namespacedname\":{\"name\":\"os-v2\",\"namespace\":"
                + "\"default\"},\"sysconfigs\":{\"version\":\"c1\",\"configs\":[]}}");
  }

  @Test
  void theHelpersAreNoFields() {
    OSInstance i = instance("n1", Map.of(OSInstance.NODE_LABEL, "n1"));
    i.getSpec().setNodestatus("idle");
    String json = new KubernetesSerialization().asJson(i);
    assertThat(json).doesNotContain("nodeName").doesNotContain("\"idle\":");
    OS os = new OS();
    os.getMetadata().setName("os");
    assertThat(new KubernetesSerialization().asJson(os))
        .doesNotContain("\"key\"")
        .doesNotContain("instanceNamespace");
  }
}
