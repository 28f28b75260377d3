package dev.kubeos.cli.cluster;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudgetBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Test code, not the product: a ReplicaSet controller and scheduler in one, as thin as the drain
 * needs. It keeps {@code replicas} pods labelled {@code app=NAME} (owned by a ReplicaSet, so a
 * drain evicts them), puts a replacement for each evicted pod on a node that is not cordoned, and
 * watches the PodDisruptionBudget {@code minAvailable} it created: the lowest number of pods ever
 * seen is kept, so the test can show the budget held throughout the drains.
 */
final class ReplicaSetRole implements AutoCloseable {
  static final String NS = "default";

  private final KubernetesClient client;
  private final String app;
  private final int replicas;
  private final AtomicInteger created = new AtomicInteger();
  private volatile SharedIndexInformer<Pod> pods;
  private volatile SharedIndexInformer<Node> nodes;
  private volatile int lowest = Integer.MAX_VALUE;
  private boolean full;

  /** Replacements created but not yet in the informer's store (never counted twice). */
  private final java.util.Set<String> pending = new java.util.HashSet<>();

  /** Creates the budget and {@code perNode} pods on each of {@code nodeNames}, then keeps them. */
  ReplicaSetRole(
      KubernetesClient client, String app, List<String> nodeNames, int perNode, int minAvailable) {
    this.client = client;
    this.app = app;
    this.replicas = perNode * nodeNames.size();
    client
        .policy()
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
    for (String n : nodeNames) {
      for (int i = 0; i < perNode; i++) {
        client.pods().resource(pod(app + "-" + n + "-" + i, n)).create();
      }
    }
    ResourceEventHandler<Pod> podEvents =
        new ResourceEventHandler<>() {
          @Override
          public void onAdd(Pod p) {
            seen(p);
          }

          @Override
          public void onUpdate(Pod a, Pod b) {
            seen(b);
          }

          @Override
          public void onDelete(Pod p, boolean unknown) {
            seen(p);
          }
        };
    ResourceEventHandler<Node> nodeEvents =
        new ResourceEventHandler<>() {
          @Override
          public void onAdd(Node n) {
            reconcile();
          }

          @Override
          public void onUpdate(Node a, Node b) {
            reconcile();
          }

          @Override
          public void onDelete(Node n, boolean unknown) {
            reconcile();
          }
        };
    // the resync reconciles every few seconds besides the events: a create that failed is retried
    pods = client.pods().inNamespace(NS).withLabel("app", app).inform(podEvents, RESYNC_MS);
    nodes = client.nodes().inform(nodeEvents, 0);
    reconcile();
  }

  private static final long RESYNC_MS = 5_000;

  /**
   * An event for pod {@code p}: a replacement of that name is no longer pending. By its name, not
   * by the store: the store is updated before the handlers run, so a replacement evicted at once
   * (put on a node whose cordon this role had not seen yet) is gone from it before its ADDED
   * event's handler looks, and would stay pending, one pod short, for ever.
   */
  private synchronized void seen(Pod p) {
    pending.remove(p.getMetadata().getName());
    reconcile();
  }

  /** The fewest pods of the app ever seen at once (the budget held while it stayed >= min). */
  int lowestSeen() {
    return lowest;
  }

  /** Pods this controller created as replacements. */
  int replacements() {
    return created.get();
  }

  private synchronized void reconcile() {
    if (pods == null || nodes == null) { // events while the informers start up
      return;
    }
    List<Pod> now = pods.getStore().list();
    full |= now.size() >= replicas; // the informer fills its store one pod at a time first
    if (full) {
      lowest = Math.min(lowest, now.size());
    }
    int missing = replicas - now.size() - pending.size();
    List<Node> open =
        nodes.getStore().list().stream()
            .filter(n -> !Boolean.TRUE.equals(n.getSpec().getUnschedulable()))
            .toList();
    for (int i = 0; i < missing && !open.isEmpty(); i++) {
      Node target = open.get(created.get() % open.size());
      String name = app + "-r" + created.incrementAndGet();
      pending.add(name);
      try {
        client.pods().resource(pod(name, target.getMetadata().getName())).create();
      } catch (RuntimeException e) { // the next resync tries again
        pending.remove(name);
        System.err.println("ReplicaSetRole: creating " + name + " failed: " + e);
      }
    }
  }

  private Pod pod(String name, String node) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(NS)
        .withLabels(Map.of("app", app))
        .addNewOwnerReference()
        .withApiVersion("apps/v1")
        .withKind("ReplicaSet")
        .withName(app + "-rs")
        .withUid("uid-" + app + "-rs")
        .withController(true)
        .endOwnerReference()
        .endMetadata()
        .withNewSpec()
        .withNodeName(node)
        .addNewContainer()
        .withName("app")
        .withImage("registry.invalid/" + app + ":1")
        .endContainer()
        .endSpec()
        .withNewStatus()
        .withPhase("Running")
        .endStatus()
        .build();
  }

  @Override
  public void close() {
    pods.close();
    nodes.close();
  }
}
