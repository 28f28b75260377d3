package dev.kubeos.cluster.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kubeos.crd.OS;
import dev.kubeos.crd.OSInstance;
import dev.kubeos.crd.OpsType;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * An idle proxy waits on its watches, not on a timer: with an idle resync of an hour, an assignment
 * still starts the attempt at once, because the change to its OSInstance wakes it.
 */
class IdleProxyIT {
  @Test
  void anAssignmentWakesAnIdleProxyWhoseResyncIsAnHour() throws Exception {
    try (MockCluster cluster = new MockCluster();
        KubernetesClient c = cluster.client();
        KubernetesClient p = cluster.proxyClient()) {
      Fixtures.node(c, "n1", "KubeOS v1", false);
      OS os = Fixtures.os(c, OpsType.UPGRADE, "KubeOS v2", 60);
      MemoryAgent agent = new MemoryAgent(c, "n1", 100);
      ProxyConfig config =
          new ProxyConfig(
              Duration.ofMillis(20),
              Duration.ofMinutes(1),
              Duration.ofMinutes(1),
              Duration.ofMillis(20),
              Duration.ofHours(1));
      NodeProxy proxy = new NodeProxy(p, "n1", Fixtures.NS, agent, config, Clock.systemUTC());
      List<Throwable> crashes = new CopyOnWriteArrayList<>();
      proxy.start((t, e) -> crashes.add(e));
      try {
        // the proxy registers its node; its next pass finds nothing to do and waits (an hour at
        // most) for a change
        await()
            .atMost(Duration.ofMinutes(2))
            .until(
                () ->
                    c.resources(OSInstance.class).inNamespace(Fixtures.NS).withName("n1").get()
                        != null);
        Fixtures.instance(c, "n1", os, "upgrade"); // the operator's assignment
        await()
            .atMost(Duration.ofMinutes(2))
            .until(() -> agent.calls.contains("prepare_upgrade KubeOS v2"));
      } finally {
        assertThat(proxy.stop(Duration.ofSeconds(5), Duration.ofSeconds(30))).isTrue();
      }
      assertThat(crashes).isEmpty();
    }
  }
}
