package dev.kubeos.cluster.proxy;

import dev.kubeos.cluster.operator.ClusterWriter;
import dev.kubeos.cluster.operator.NodeDrains;
import dev.kubeos.cluster.operator.Reconciler;
import dev.kubeos.cluster.proxy.model.Step;
import dev.kubeos.crd.Namespaces;
import dev.kubeos.crd.OS;
import dev.kubeos.crd.OSInstance;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs a proxy pass by pass, recording every phase it writes, as a test's eye on the node. Between
 * passes it does for the node what the operator does, with the operator's code: a round of the
 * drain the proxy waits for ({@link NodeDrains}) and the hand-back once the attempt is over ({@link
 * Reconciler#handBackDue}, {@link ClusterWriter#handBack}); the planning is left out (the tests
 * assign the node themselves).
 */
final class Driver {
  static final ProxyConfig FAST =
      new ProxyConfig(
          Duration.ofMillis(20),
          // reboot and drain timeouts are bounds here: tests that need one to fire set their own
          Duration.ofMinutes(1),
          Duration.ofMinutes(1),
          Duration.ofMillis(20));

  /** The operator's drain settings of these tests: the drain timeout is the OS resource's. */
  static final NodeDrains.Settings FAST_DRAIN =
      new NodeDrains.Settings(
          Duration.ofMinutes(1), 3, Duration.ofMillis(50), Duration.ofMillis(400));

  final List<String> phases = new ArrayList<>();
  private final KubernetesClient client;
  private final String node;
  private final ClusterWriter writer;
  private final NodeDrains drains;

  Driver(KubernetesClient client, String node) {
    this.client = client;
    this.node = node;
    this.writer = new ClusterWriter(client, "kubeos-operator");
    this.drains = new NodeDrains(client, writer, FAST_DRAIN);
  }

  NodeProxy proxy(KubernetesClient c, AgentClient agent, ProxyConfig config) {
    return new NodeProxy(c, node, Fixtures.NS, agent, config, Clock.systemUTC());
  }

  /**
   * Runs passes until the attempt is over and released, or {@code maxActions} steps that changed
   * something were taken (a proxy stopped at that point); 3 min only bound a broken run. After each
   * pass the operator's part for the node runs ({@link #operatorTurn}).
   */
  void run(NodeProxy proxy, int maxActions) throws InterruptedException {
    long end = System.nanoTime() + Duration.ofMinutes(3).toNanos();
    int actions = 0;
    while (System.nanoTime() < end && actions < maxActions) {
      Step s = proxy.runOnce();
      note();
      if (s instanceof Step.Nothing) {
        return;
      }
      operatorTurn();
      if (s instanceof Step.Wait || s instanceof Step.Poll) {
        Thread.sleep(FAST.pollInterval().toMillis());
      } else {
        actions++;
      }
    }
  }

  /**
   * What the operator does for this node, with its code: hand the node back when its attempt at the
   * assigned target is over, else one round of the drain the proxy waits for.
   */
  void operatorTurn() {
    OSInstance i = instance();
    if (i == null || i.getSpec() == null || i.getSpec().getNamespacedname() == null) {
      return;
    }
    var nn = i.getSpec().getNamespacedname();
    if (nn.getName() == null) {
      return;
    }
    OS os =
        client
            .resources(OS.class)
            .inNamespace(Namespaces.orDefault(nn.getNamespace()))
            .withName(nn.getName())
            .get();
    if (os == null) {
      return;
    }
    if (Reconciler.handBackDue(i, os)) {
      writer.handBack(i);
    } else if (NodeDrains.wanted(i)) {
      var pods = client.pods().inAnyNamespace().withField("spec.nodeName", node).list();
      drains.round(i, os.getSpec(), pods.getItems(), Clock.systemUTC().instant());
    }
  }

  OSInstance instance() {
    return client.resources(OSInstance.class).inNamespace(Fixtures.NS).withName(node).get();
  }

  void note() {
    OSInstance i = instance();
    String p = i.getStatus() == null ? null : i.getStatus().getPhase();
    if (p != null && (phases.isEmpty() || !phases.get(phases.size() - 1).equals(p))) {
      phases.add(p);
    }
  }
}
