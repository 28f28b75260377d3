package dev.kubeos.cluster.proxy;

import dev.kubeos.cluster.operator.ClusterWriter;
import dev.kubeos.crd.Content;
import dev.kubeos.crd.NamespacedName;
import dev.kubeos.crd.OS;
import dev.kubeos.crd.OSInstance;
import dev.kubeos.crd.OSInstanceSpec;
import dev.kubeos.crd.OpsType;
import dev.kubeos.crd.SysConfig;
import dev.kubeos.crd.SysConfigs;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudgetBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.List;
import java.util.Map;

/** Builders for the objects the proxy tests put into the mock API server. */
final class Fixtures {
  static final String NS = "default";

  private Fixtures() {}

  static Node node(KubernetesClient c, String name, String osImage, boolean unschedulable) {
    Node n =
        new NodeBuilder()
            .withNewMetadata()
            .withName(name)
            .endMetadata()
            .withNewSpec()
            .withUnschedulable(unschedulable ? Boolean.TRUE : null)
            .endSpec()
            .withNewStatus()
            .withNewNodeInfo()
            .withOsImage(osImage)
            .withBootID("boot-" + name + "-0")
            .endNodeInfo()
            .endStatus()
            .build();
    return c.nodes().resource(n).create();
  }

  /** A pod on {@code node}; {@code owner} is the controller kind or null; optional emptyDir. */
  static Pod pod(
      KubernetesClient c, String name, String node, String owner, boolean emptyDir, String app) {
    PodBuilder b =
        new PodBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace(NS)
            .withLabels(Map.of("app", app))
            .endMetadata()
            .withNewSpec()
            .withNodeName(node)
            .addNewContainer()
            .withName("c")
            .withImage("registry.invalid/app:1")
            .endContainer()
            .endSpec()
            .withNewStatus()
            .withPhase("Running")
            .endStatus();
    if (owner != null) {
      b.editMetadata()
          .addNewOwnerReference()
          .withApiVersion("apps/v1")
          .withKind(owner)
          .withName(name + "-owner")
          .withUid("uid-" + name)
          .withController(true)
          .endOwnerReference()
          .endMetadata();
    }
    if (emptyDir) {
      b.editSpec()
          .addNewVolume()
          .withName("scratch")
          .withNewEmptyDir()
          .endEmptyDir()
          .endVolume()
          .endSpec();
    }
    return c.pods().resource(b.build()).create();
  }

  static void mirrorPod(KubernetesClient c, String name, String node) {
    Pod p = pod(c, name, node, "Node", false, "static");
    p.getMetadata().setAnnotations(Map.of("kubernetes.io/config.mirror", "abc"));
    c.pods().resource(p).update();
  }

  static PodDisruptionBudget pdb(KubernetesClient c, String app, int minAvailable) {
    return c.policy()
        .v1()
        .podDisruptionBudget()
        .resource(
            new PodDisruptionBudgetBuilder()
                .withNewMetadata()
                .withName(app + "-pdb")
                .withNamespace(NS)
                .endMetadata()
                .withNewSpec()
                .withNewMinAvailable(minAvailable)
                .withNewSelector()
                .withMatchLabels(Map.of("app", app))
                .endSelector()
                .endSpec()
                .build())
        .create();
  }

  /** Reasons of the Events recorded about node {@code node}, with their type ("Warning: X"). */
  static List<String> nodeEvents(KubernetesClient c, String node) {
    return c.v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> "Node".equals(e.getInvolvedObject().getKind()))
        .filter(e -> node.equals(e.getInvolvedObject().getName()))
        .map(e -> ("Warning".equals(e.getType()) ? "Warning: " : "") + e.getReason())
        .toList();
  }

  /** Message of the node's one Event with {@code reason}. */
  static String eventMessage(KubernetesClient c, String node, String reason) {
    return c.v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> node.equals(e.getInvolvedObject().getName()))
        .filter(e -> reason.equals(e.getReason()))
        .map(io.fabric8.kubernetes.api.model.Event::getMessage)
        .reduce(
            (a, b) -> {
              throw new AssertionError(
                  "two " + reason + " Events for " + node + ": " + a + " / " + b);
            })
        .orElseThrow(() -> new AssertionError("no " + reason + " Event for " + node));
  }

  static SysConfigs sysconfigs(String version, String key, String value) {
    SysConfigs s = new SysConfigs(version);
    SysConfig c = new SysConfig();
    c.setModel("kernel.sysctl");
    c.setContents(List.of(new Content(key, value, null)));
    s.setConfigs(List.of(c));
    return s;
  }

  static OS os(KubernetesClient c, OpsType ops, String version, Integer drainTimeout) {
    OS os = new OS();
    os.getMetadata().setName("os-" + ops.wireName());
    os.getMetadata().setNamespace(NS);
    os.getSpec().setOpstype(ops);
    os.getSpec().setOsversion(version);
    os.getSpec().setImagetype("disk");
    os.getSpec().setImageurl("https://images.invalid/kubeos.tar");
    os.getSpec().setChecksum("ab".repeat(32));
    os.getSpec().setMaxunavailable(1);
    os.getSpec().setDraintimeout(drainTimeout);
    return c.resources(OS.class).resource(os).create();
  }

  /**
   * The node's OSInstance as production makes it: registered by the proxy's code (idle, named after
   * and owned by the Node, which must exist), then, unless {@code nodestatus} is idle, assigned by
   * the operator's merge patch ({@code nodestatus}, the OS, its settings).
   */
  static OSInstance instance(KubernetesClient c, String node, OS os, String nodestatus) {
    Node n = c.nodes().withName(node).get();
    if (n == null) {
      throw new AssertionError("create the node " + node + " first: the proxy registers only then");
    }
    new InstanceStatusWriter(c, NS, node, java.time.Clock.systemUTC()).register(n);
    OSInstance registered = c.resources(OSInstance.class).inNamespace(NS).withName(node).get();
    if (OSInstanceSpec.idle(nodestatus)) {
      return registered;
    }
    return new ClusterWriter(c, "kubeos-operator")
        .assign(
            registered,
            OSInstanceSpec.assignment(
                nodestatus,
                new NamespacedName(os.getMetadata().getName(), NS),
                os.getSpec().getSysconfigs(),
                os.getSpec().getUpgradeconfigs()));
  }
}
