package dev.kubeos.cluster.proxy;

import dev.kubeos.cluster.proxy.model.Step;
import dev.kubeos.crd.OSInstance;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Runs a proxy pass by pass, recording every phase it writes, as a test's eye on the node. */
final class Driver {
  static final ProxyConfig FAST =
      new ProxyConfig(
          Duration.ofMillis(20),
          // reboot and drain timeouts are bounds here: tests that need one to fire set their own
          Duration.ofMinutes(1),
          Duration.ofMinutes(1),
          3,
          Duration.ofMillis(50),
          Duration.ofMillis(400),
          Duration.ofMillis(20));

  final List<String> phases = new ArrayList<>();
  private final KubernetesClient client;
  private final String node;

  Driver(KubernetesClient client, String node) {
    this.client = client;
    this.node = node;
  }

  NodeProxy proxy(KubernetesClient c, AgentClient agent, ProxyConfig config) {
    return new NodeProxy(c, node, Fixtures.NS, agent, config, Clock.systemUTC());
  }

  /**
   * Runs passes until the attempt is over and released, or {@code maxActions} steps that changed
   * something were taken (a proxy stopped at that point); 3 min only bound a broken run.
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
      if (s instanceof Step.Wait) {
        Thread.sleep(FAST.pollInterval().toMillis());
      } else {
        actions++;
      }
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
