package dev.kubeos.cluster.plan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubeos.crd.OSInstance;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NodeFactsReaderTest {
  static Node node(String name, boolean ready, Boolean unschedulable) {
    return new NodeBuilder()
        .withNewMetadata()
        .withName(name)
        .addToLabels("zone", "a")
        .endMetadata()
        .withNewSpec()
        .withUnschedulable(unschedulable)
        .endSpec()
        .withNewStatus()
        .addNewCondition()
        .withType("Ready")
        .withStatus(ready ? "True" : "False")
        .endCondition()
        .withNewNodeInfo()
        .withOsImage("KubeOS 1.0.0")
        .endNodeInfo()
        .withAllocatable(Map.of("cpu", new Quantity("3900m"), "memory", new Quantity("7Gi")))
        .endStatus()
        .build();
  }

  static Pod pod(String name, String node, String cpu, String mem, String ownerKind, String phase) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace("apps")
        .addNewOwnerReference()
        .withKind(ownerKind)
        .withName("x")
        .endOwnerReference()
        .endMetadata()
        .withNewSpec()
        .withNodeName(node)
        .addNewContainer()
        .withName("c")
        .withNewResources()
        .withRequests(Map.of("cpu", new Quantity(cpu), "memory", new Quantity(mem)))
        .endResources()
        .endContainer()
        .endSpec()
        .withNewStatus()
        .withPhase(phase)
        .endStatus()
        .build();
  }

  static OSInstance instance(String node, String namespace, String phase) {
    OSInstance i = new OSInstance();
    i.setMetadata(
        new ObjectMetaBuilder()
            .withName(node)
            .withNamespace(namespace)
            .addToLabels(OSInstance.NODE_LABEL, node)
            .build());
    i.getSpec().setNodestatus("upgrade");
    i.getStatus().setPhase(phase);
    i.getStatus().setTarget("KubeOS 2.0.0");
    i.getStatus().setStarttime("2026-03-02T10:00:00Z");
    i.getStatus().getSysconfigs().setVersion("c7");
    return i;
  }

  @Test
  void joinsNodesPodsAndInstances() {
    List<HasMetadata> items =
        List.of(
            node("a", true, null),
            node("b", false, true),
            pod("web", "a", "250m", "512Mi", "ReplicaSet", "Running"),
            pod("agent", "a", "100m", "64Mi", "DaemonSet", "Running"),
            pod("job", "a", "1", "1Gi", "Job", "Succeeded"),
            instance("a", "default", "Draining"),
            instance("b", "elsewhere", "Failed"));
    List<NodeFacts> views = NodeFactsReader.of(items, "default");
    NodeFacts a = views.get(0);
    assertThat(a.ready()).isTrue();
    assertThat(a.unschedulable()).isFalse();
    assertThat(a.osImage()).isEqualTo("KubeOS 1.0.0");
    assertThat(a.allocatable()).isEqualTo(new Resources(3900, 7L << 30));
    assertThat(a.requested()).isEqualTo(new Resources(350, (512L + 64) << 20));
    assertThat(a.pods())
        .filteredOn(PodView::evictedByDrain)
        .extracting(PodView::name)
        .containsExactly("web");
    assertThat(a.instance().assigned()).isTrue();
    assertThat(a.instance().configVersion()).isEqualTo("c7");
    assertThat(a.instance().startTime()).isEqualTo(java.time.Instant.parse("2026-03-02T10:00:00Z"));
    NodeFacts b = views.get(1);
    assertThat(b.ready()).isFalse();
    assertThat(b.unschedulable()).isTrue();
    assertThat(b.instance()).as("instance in another namespace is ignored").isNull();
  }
}
