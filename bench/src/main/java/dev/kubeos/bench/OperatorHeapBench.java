package dev.kubeos.bench;

import dev.kubeos.cluster.plan.NodeFacts;
import dev.kubeos.cluster.plan.NodeFactsReader;
import dev.kubeos.cluster.plan.RolloutPlan;
import dev.kubeos.cluster.plan.RolloutPlanner;
import dev.kubeos.crd.Namespaces;
import dev.kubeos.crd.OSInstance;
import dev.kubeos.crd.OSInstanceSpec;
import dev.kubeos.crd.OSSpec;
import dev.kubeos.crd.OpsType;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Operator heap at N nodes: what the informer caches hold (N Node objects, 10 pods per node, N
 * OSInstances, as fabric8 model objects like the informers deserialize them) plus one plan. Prints
 * the retained heap after GC for the cached objects alone and with one plan's views. Run: {@code
 * java -cp ... dev.kubeos.bench.OperatorHeapBench 5000}.
 */
public final class OperatorHeapBench {
  private OperatorHeapBench() {}

  public static void main(String[] args) {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 5000;
    long base = used();
    List<HasMetadata> cache = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String name = String.format("node-%05d", i);
      cache.add(node(name));
      for (int p = 0; p < 10; p++) {
        cache.add(pod(name, p));
      }
      OSInstance inst = new OSInstance();
      inst.getMetadata().setName(name);
      inst.getMetadata().setNamespace(Namespaces.DEFAULT);
      inst.getMetadata().getLabels().put(OSInstance.NODE_LABEL, name);
      inst.getSpec().setNodestatus(OSInstanceSpec.IDLE);
      cache.add(inst);
    }
    long cached = used() - base;
    OSSpec spec = new OSSpec();
    spec.setOsversion("KubeOS v2");
    spec.setOpstype(OpsType.UPGRADE);
    spec.setMaxunavailable(100);
    long t0 = System.nanoTime();
    List<NodeFacts> views = NodeFactsReader.of(cache, Namespaces.DEFAULT);
    RolloutPlan plan = RolloutPlanner.plan(spec, views, Instant.parse("2026-03-02T10:00:00Z"));
    double ms = (System.nanoTime() - t0) / 1e6;
    long withPlan = used() - base;
    System.out.printf(
        "%d nodes, %d pods, %d OSInstances: cached objects %.1f MiB, with views + plan %.1f MiB"
            + " (plan started %d, views+plan %.1f ms first run)%n",
        n, n * 10, n, cached / 1048576.0, withPlan / 1048576.0, plan.start().size(), ms);
    if (cache.isEmpty() || views.isEmpty()) {
      throw new IllegalStateException("keep reachable");
    }
  }

  private static long used() {
    Runtime rt = Runtime.getRuntime();
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return rt.totalMemory() - rt.freeMemory();
  }

  private static Node node(String name) {
    return new NodeBuilder()
        .withNewMetadata()
        .withName(name)
        .addToLabels("kubernetes.io/hostname", name)
        .addToLabels("kubernetes.io/os", "linux")
        .addToLabels("node.kubernetes.io/instance-type", "m5.xlarge")
        .withUid(java.util.UUID.randomUUID().toString())
        .withResourceVersion("123456")
        .endMetadata()
        .withNewStatus()
        .addNewCondition()
        .withType("Ready")
        .withStatus("True")
        .withReason("KubeletReady")
        .withMessage("kubelet is posting ready status")
        .endCondition()
        .withNewNodeInfo()
        .withOsImage("KubeOS v1")
        .withKubeletVersion("v1.31.2")
        .withContainerRuntimeVersion("containerd://1.7.22")
        .withKernelVersion("6.6.0")
        .endNodeInfo()
        .addToAllocatable("cpu", new Quantity("16"))
        .addToAllocatable("memory", new Quantity("64Gi"))
        .addToAllocatable("pods", new Quantity("110"))
        .addNewAddress()
        .withType("InternalIP")
        .withAddress("10.0.0.1")
        .endAddress()
        .endStatus()
        .build();
  }

  private static Pod pod(String node, int i) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(node + "-app-" + i)
        .withNamespace("apps")
        .addToLabels("app", "app-" + i)
        .withUid(java.util.UUID.randomUUID().toString())
        .addNewOwnerReference()
        .withKind("ReplicaSet")
        .withName("app-" + i + "-7d9f8")
        .withApiVersion("apps/v1")
        .endOwnerReference()
        .endMetadata()
        .withNewSpec()
        .withNodeName(node)
        .addNewContainer()
        .withName("app")
        .withImage("registry.example/app:1.0")
        .withNewResources()
        .addToRequests("cpu", new Quantity("500m"))
        .addToRequests("memory", new Quantity("1Gi"))
        .endResources()
        .endContainer()
        .endSpec()
        .withNewStatus()
        .withPhase("Running")
        .withPodIP("10.1.0.1")
        .endStatus()
        .build();
  }
}
