package dev.kubeos.cluster;

import dev.kubeos.crd.Labels;
import dev.kubeos.crd.OSInstance;
import dev.kubeos.crd.OSInstanceSpec;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Map;

/** The simulated fleet's objects, shared by the operator and the proxy fleet tests. */
public final class FleetFixtures {
  private FleetFixtures() {}

  /** A 4 CPU / 8 GiB node at {@code osImage}; {@code selectorLabel} null = no selector label. */
  public static Node node(String name, String osImage, boolean ready, String selectorLabel) {
    var b =
        new NodeBuilder()
            .withNewMetadata()
            .withName(name)
            .endMetadata()
            .withNewSpec()
            .endSpec()
            .withNewStatus()
            .addNewCondition()
            .withType("Ready")
            .withStatus(ready ? "True" : "False")
            .endCondition()
            .withNewNodeInfo()
            .withOsImage(osImage)
            .withBootID("boot-" + name + "-0")
            .endNodeInfo()
            .addToAllocatable("cpu", new Quantity("4"))
            .addToAllocatable("memory", new Quantity("8Gi"))
            .addToAllocatable("pods", new Quantity("110"))
            .endStatus();
    if (selectorLabel != null) {
      b.editMetadata().addToLabels(Labels.NODE_SELECTOR, selectorLabel).endMetadata();
    }
    return b.build();
  }

  /** A running 100m / 128Mi app pod on {@code node}; {@code replicated}: owned by a ReplicaSet. */
  public static Pod appPod(String name, String namespace, String node, boolean replicated) {
    var b =
        new PodBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace(namespace)
            .withLabels(Map.of("app", "app-" + node))
            .endMetadata()
            .withNewSpec()
            .withNodeName(node)
            .addNewContainer()
            .withName("app")
            .withImage("registry.invalid/app:1")
            .withNewResources()
            .addToRequests("cpu", new Quantity("100m"))
            .addToRequests("memory", new Quantity("128Mi"))
            .endResources()
            .endContainer()
            .endSpec()
            .withNewStatus()
            .withPhase("Running")
            .endStatus();
    if (replicated) {
      b.editMetadata()
          .addNewOwnerReference()
          .withApiVersion("apps/v1")
          .withKind("ReplicaSet")
          .withName("rs-" + node)
          .withUid("uid-" + node)
          .withController(true)
          .endOwnerReference()
          .endMetadata();
    }
    return b.build();
  }

  /** The node's OSInstance, idle, as a proxy registers it. */
  public static void createIdleInstance(KubernetesClient c, String namespace, String node) {
    OSInstance inst = new OSInstance();
    inst.getMetadata().setName(node);
    inst.getMetadata().setNamespace(namespace);
    inst.getMetadata().setLabels(Map.of(OSInstance.NODE_LABEL, node));
    inst.getSpec().setNodestatus(OSInstanceSpec.IDLE);
    c.resources(OSInstance.class).inNamespace(namespace).resource(inst).create();
  }
}
