package dev.kubeos.cluster.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kubeos.crd.OS;
import dev.kubeos.crd.OSInstance;
import dev.kubeos.crd.OpsType;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The proxy's wake-up: a change to its own Node or OSInstance, not to another node's. */
class ChangeSignalIT {
  @Test
  void wakesOnItsOwnNodeAndOsInstanceOnly() throws Exception {
    try (MockCluster cluster = new MockCluster();
        KubernetesClient c = cluster.client()) {
      Fixtures.node(c, "n1", "KubeOS v1", false);
      Fixtures.node(c, "n2", "KubeOS v1", false);
      OS os = Fixtures.os(c, OpsType.UPGRADE, "KubeOS v2", 5);
      Fixtures.instance(c, "n1", os, "idle");
      Fixtures.instance(c, "n2", os, "idle");
      try (ChangeSignal s = ChangeSignal.watch(c, Fixtures.NS, "n1")) {
        // the initial lists: one add for the node, one for its OSInstance, each from its informer
        await().atMost(Duration.ofMinutes(1)).until(() -> s.signals() == 2);
        assertThat(s.await(Duration.ZERO)).as("the initial lists").isTrue();
        assertThat(s.watching()).as("both informers run").isTrue();
        assertThat(s.await(Duration.ofMillis(300))).as("quiet").isFalse();

        c.nodes().withName("n2").edit(n -> label(n, "x"));
        c.resources(OSInstance.class)
            .inNamespace(Fixtures.NS)
            .withName("n2")
            .edit(i -> label(i, "x"));
        assertThat(s.await(Duration.ofMillis(500))).as("another node's changes").isFalse();

        c.nodes()
            .withName("n1")
            .editStatus(
                n -> {
                  n.getStatus().getNodeInfo().setBootID("boot-n1-1");
                  return n;
                });
        assertThat(s.await(Duration.ofMinutes(1))).as("its node's status").isTrue();
        c.resources(OSInstance.class)
            .inNamespace(Fixtures.NS)
            .withName("n1")
            .edit(
                i -> {
                  i.getSpec().setNodestatus("upgrade");
                  return i;
                });
        assertThat(s.await(Duration.ofMinutes(1))).as("its OSInstance").isTrue();
        assertThat(s.await(Duration.ofMillis(200))).as("one change, one wake-up").isFalse();
        assertThat(s.signals()).as("the two lists' adds and the two changes").isEqualTo(4);
      }
    }
  }

  /**
   * A stopped informer (here: closed) ends {@link ChangeSignal#watching()} and wakes the waiter, so
   * the proxy falls back to polling at its resync interval instead of waiting on a dead watch.
   */
  @Test
  void aStoppedInformerEndsWatchingAndWakesTheProxy() throws Exception {
    try (MockCluster cluster = new MockCluster();
        KubernetesClient c = cluster.client()) {
      Fixtures.node(c, "n1", "KubeOS v1", false);
      ChangeSignal s = ChangeSignal.watch(c, Fixtures.NS, "n1");
      assertThat(s.watching()).isTrue();
      await().atMost(Duration.ofMinutes(1)).until(() -> s.signals() == 1); // the node's add
      s.await(Duration.ZERO);
      s.close();
      await().atMost(Duration.ofMinutes(1)).until(() -> !s.watching());
      assertThat(s.await(Duration.ZERO)).as("woken by the stop").isTrue();
    }
  }

  private static <T extends io.fabric8.kubernetes.api.model.HasMetadata> T label(T o, String v) {
    o.getMetadata().setLabels(new java.util.HashMap<>(java.util.Map.of("touched", v)));
    return o;
  }
}
