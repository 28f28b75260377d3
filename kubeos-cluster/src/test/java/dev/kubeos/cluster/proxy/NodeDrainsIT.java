package dev.kubeos.cluster.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubeos.cluster.operator.ClusterWriter;
import dev.kubeos.cluster.operator.NodeDrains;
import dev.kubeos.crd.DrainReport;
import dev.kubeos.crd.OS;
import dev.kubeos.crd.OSInstance;
import dev.kubeos.crd.OSInstanceStatus;
import dev.kubeos.crd.OpsType;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The operator's drain ({@link NodeDrains}) round by round against the mock API server (with the
 * Eviction subresource, {@link EvictionDispatcher}), on instants the test chooses: a round never
 * waits; a refused eviction waits its backoff, doubling; at most {@code parallelism} pods are
 * evicted and not yet gone; the answer, written at the drain timeout or when the node is empty,
 * names the Draining phase it answers, and an answer to an earlier phase is no answer.
 */
class NodeDrainsIT {
  static final Instant T0 = Instant.parse("2026-03-02T10:00:00Z");
  static final NodeDrains.Settings SETTINGS =
      new NodeDrains.Settings(
          Duration.ofMinutes(10), 2, Duration.ofMillis(50), Duration.ofMillis(400));

  MockCluster cluster;
  KubernetesClient c;
  NodeDrains drains;
  OS os;

  @BeforeEach
  void start() {
    cluster = new MockCluster();
    c = cluster.client();
    drains = new NodeDrains(c, new ClusterWriter(c, "kubeos-operator"), SETTINGS);
    Fixtures.node(c, "n1", "KubeOS v1", true);
    os = Fixtures.os(c, OpsType.UPGRADE, "KubeOS v2", 60);
    Fixtures.instance(c, "n1", os, "upgrade");
  }

  @AfterEach
  void stop() {
    c.close();
    cluster.close();
  }

  @Test
  void aRefusedEvictionWaitsItsBackoffAndTheDrainFailsAtItsTimeout() {
    Fixtures.pod(c, "db-0", "n1", "StatefulSet", false, "db");
    Fixtures.pod(c, "web-1", "n1", "ReplicaSet", false, "web");
    Fixtures.pdb(c, "db", 1);
    OSInstance i = draining(T0);
    assertThat(NodeDrains.wanted(i)).isTrue();

    Instant t1 = T0.plusSeconds(1);
    NodeDrains.Round r = drains.round(i, os.getSpec(), pods(), t1);
    assertThat(r.written()).as("no answer yet").isNull();
    assertThat(r.next()).as("the backoff of the refused eviction").isEqualTo(t1.plusMillis(50));
    assertThat(codes()).containsExactlyInAnyOrder("default/db-0 429", "default/web-1 201");

    // before the backoff ends: no new eviction of db-0
    drains.round(i, os.getSpec(), pods(), t1.plusMillis(10));
    assertThat(codes()).hasSize(2);
    // after it: one more, refused again, and the backoff doubles
    r = drains.round(i, os.getSpec(), pods(), t1.plusMillis(50));
    assertThat(codes()).hasSize(3).last().isEqualTo("default/db-0 429");
    assertThat(r.next()).isEqualTo(t1.plusMillis(150));

    // at the drain timeout (60 s after the Draining phase began): the answer, naming db-0 only
    r = drains.round(i, os.getSpec(), pods(), T0.plusSeconds(60));
    assertThat(r.report().getResult()).isEqualTo(DrainReport.FAILED);
    assertThat(r.report().getMessage())
        .contains("drain did not finish by the drain timeout (60 s)")
        .contains("default/db-0 (eviction refused 2 times)")
        .doesNotContain("web-1");
    DrainReport stored = instance().getStatus().getDrain();
    assertThat(stored.getPhasetime()).isEqualTo(T0.toString());
    assertThat(stored.getResult()).isEqualTo(DrainReport.FAILED);
    assertThat(instance().getStatus().getPhase())
        .as("the proxy's fields untouched")
        .isEqualTo("Draining");
    assertThat(NodeDrains.wanted(instance())).as("answered: no more rounds").isFalse();
    assertThat(drains.underway()).isEmpty();
  }

  @Test
  void atMostParallelismPodsAreEvictedAndNotYetGone() {
    for (String p : List.of("a", "b", "c")) {
      Fixtures.pod(c, p, "n1", "ReplicaSet", false, p);
    }
    OSInstance i = draining(T0);
    // the pods as the operator's cache still has them after the first round: a and b evicted
    // (gone on the server, not yet in the cache), so c waits for one of them to go
    List<Pod> before = pods();
    drains.round(i, os.getSpec(), before, T0.plusSeconds(1));
    assertThat(codes()).containsExactly("default/a 201", "default/b 201");
    drains.round(i, os.getSpec(), before, T0.plusSeconds(1).plusMillis(100));
    assertThat(codes()).as("two in flight: c waits").hasSize(2);
    // the cache catches up: a and b are gone, c is evicted
    drains.round(i, os.getSpec(), pods(), T0.plusSeconds(3));
    assertThat(codes()).containsExactly("default/a 201", "default/b 201", "default/c 201");
    // nothing left: drained, after a fresh list from the API server agrees
    NodeDrains.Round r = drains.round(i, os.getSpec(), pods(), T0.plusSeconds(4));
    assertThat(r.report().getResult()).isEqualTo(DrainReport.DRAINED);
    assertThat(r.report().getMessage()).isEqualTo("drained 3 pods");
  }

  @Test
  void aCacheThatMissesAnEvictedPodsGoingIsCheckedAfterTheLongestBackoff() {
    Fixtures.pod(c, "web-1", "n1", "ReplicaSet", false, "web");
    OSInstance i = draining(T0);
    List<Pod> stale = pods();
    Instant t1 = T0.plusSeconds(1);
    NodeDrains.Round r = drains.round(i, os.getSpec(), stale, t1);
    assertThat(codes()).containsExactly("default/web-1 201");
    assertThat(r.next()).as("a round a longest backoff on").isEqualTo(t1.plusMillis(400));
    // the cache never sees web-1 go: before the longest backoff it is believed, after it not
    assertThat(drains.round(i, os.getSpec(), stale, t1.plusMillis(399)).written()).isNull();
    r = drains.round(i, os.getSpec(), stale, t1.plusMillis(400));
    assertThat(r.report().getResult()).isEqualTo(DrainReport.DRAINED);
    assertThat(r.report().getMessage()).isEqualTo("drained 1 pods");
  }

  @Test
  void theFailedAnswerSaysOfAnEvictedPodThatItIsStillShuttingDown() {
    Fixtures.pod(c, "web-1", "n1", "ReplicaSet", false, "web");
    // a finalizer keeps the pod after its deletion, as a slow shutdown does
    c.pods()
        .inNamespace(Fixtures.NS)
        .withName("web-1")
        .edit(
            p ->
                new PodBuilder(p).editMetadata().addToFinalizers("e2e/slow").endMetadata().build());
    OSInstance i = draining(T0);
    drains.round(i, os.getSpec(), pods(), T0.plusSeconds(1));
    assertThat(codes()).containsExactly("default/web-1 201");
    assertThat(pods())
        .singleElement()
        .satisfies(p -> assertThat(p.getMetadata().getDeletionTimestamp()).isNotNull());
    NodeDrains.Round r = drains.round(i, os.getSpec(), pods(), T0.plusSeconds(60));
    assertThat(r.report().getResult()).isEqualTo(DrainReport.FAILED);
    assertThat(r.report().getMessage())
        .contains("default/web-1 (evicted 59 s ago, still shutting down)");
    assertThat(codes()).as("not evicted twice").hasSize(1);
  }

  @Test
  void anEmptyCacheIsCheckedAgainstTheApiServerBeforeDrained() {
    Fixtures.pod(c, "web-1", "n1", "ReplicaSet", false, "web");
    OSInstance i = draining(T0);
    NodeDrains.Round r = drains.round(i, os.getSpec(), List.of(), T0.plusSeconds(1));
    assertThat(r.written()).as("the cache lagged: web-1 is there").isNull();
    assertThat(codes()).containsExactly("default/web-1 201");
  }

  @Test
  void anAnswerToAnEarlierDrainingIsNoAnswer() {
    OSInstance i = draining(T0);
    NodeDrains.Round r = drains.round(i, os.getSpec(), pods(), T0.plusSeconds(1));
    assertThat(r.report().getResult()).isEqualTo(DrainReport.DRAINED);
    assertThat(NodeDrains.wanted(instance())).isFalse();
    // the proxy enters Draining again (a new attempt): the old answer does not count
    OSInstance again = draining(T0.plusSeconds(600));
    assertThat(again.getStatus().getDrain().getPhasetime()).isEqualTo(T0.toString());
    assertThat(NodeDrains.wanted(again)).isTrue();
    assertThat(ProxyPass.drainAnswer(again.getStatus())).isNull();
    assertThat(ProxyPass.drainAnswer(instance().getStatus())).isNull();
    // and the answer to this one does
    drains.round(again, os.getSpec(), pods(), T0.plusSeconds(601));
    assertThat(ProxyPass.drainAnswer(instance().getStatus()).drained()).isTrue();
  }

  /** Records Draining, entered at {@code since}, as the proxy does (a status update). */
  private OSInstance draining(Instant since) {
    OSInstance i = instance();
    if (i.getStatus() == null) {
      i.setStatus(new OSInstanceStatus());
    }
    i.getStatus().setPhase("Draining");
    i.getStatus().setTarget("KubeOS v2");
    i.getStatus().setPhasetime(since.toString());
    return c.resources(OSInstance.class).inNamespace(Fixtures.NS).resource(i).updateStatus();
  }

  private OSInstance instance() {
    return c.resources(OSInstance.class).inNamespace(Fixtures.NS).withName("n1").get();
  }

  private List<Pod> pods() {
    return c.pods().inNamespace(Fixtures.NS).list().getItems();
  }

  private List<String> codes() {
    return cluster.dispatcher.evictions.stream().map(e -> e.pod() + " " + e.code()).toList();
  }
}
