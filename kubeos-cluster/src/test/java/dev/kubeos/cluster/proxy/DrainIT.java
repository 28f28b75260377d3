package dev.kubeos.cluster.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubeos.crd.OS;
import dev.kubeos.crd.OpsType;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The drain: PodDisruptionBudgets through the Eviction API, the timeout, evictpodforce filters. */
class DrainIT {
  MockCluster cluster;
  KubernetesClient c;
  Driver driver;
  MemoryAgent agent;

  @BeforeEach
  void start() {
    cluster = new MockCluster();
    c = cluster.client();
    driver = new Driver(c, "n1");
    agent = new MemoryAgent(c, "n1", 50);
  }

  @AfterEach
  void stop() {
    c.close();
    cluster.close();
  }

  @Test
  void aDrainBlockedByAPdbTimesOutUncordonsAndFailsNamingThePodWithoutReboot() throws Exception {
    Fixtures.node(c, "n1", "KubeOS v1", false);
    Fixtures.pod(c, "db-0", "n1", "StatefulSet", false, "db");
    Fixtures.pod(c, "web-1", "n1", "ReplicaSet", false, "web");
    Fixtures.pdb(c, "db", 1);
    OS os = Fixtures.os(c, OpsType.UPGRADE, "KubeOS v2", 3);
    Fixtures.instance(c, "n1", os, "upgrade");

    long t0 = System.nanoTime();
    driver.run(driver.proxy(c, agent, Driver.FAST), 100);
    long ms = (System.nanoTime() - t0) / 1_000_000;

    assertThat(driver.phases).containsExactly("Staging", "Cordoning", "Draining", "Failed");
    var status = driver.instance().getStatus();
    assertThat(status.getMessage()).contains("default/db-0").doesNotContain("web-1");
    assertThat(status.getTarget()).isEqualTo("KubeOS v2");
    assertThat(agent.count("upgrade")).as("no reboot of an undrained node").isZero();
    assertThat(c.nodes().withName("n1").get().getSpec().getUnschedulable())
        .isNotEqualTo(Boolean.TRUE);
    assertThat(c.pods().inNamespace("default").withName("web-1").get()).isNull();
    assertThat(c.pods().inNamespace("default").withName("db-0").get()).isNotNull();
    long refused =
        cluster.dispatcher.evictions.stream()
            .filter(e -> e.pod().equals("default/db-0") && e.code() == 429)
            .count();
    assertThat(refused).as("429 retried with backoff").isBetween(2L, 40L);
    // honoured: not before the timeout, and not waiting for anything unbounded after it
    assertThat(ms).as("drain timeout of 3 s honoured").isBetween(3000L, 60_000L);
    assertThat(driver.instance().getSpec().getNodestatus()).isEqualTo("idle");
    assertThat(Fixtures.nodeEvents(c, "n1"))
        .containsExactlyInAnyOrder("Staged", "Draining", "Warning: DrainFailed");
    assertThat(Fixtures.eventMessage(c, "n1", "DrainFailed"))
        .contains("default/db-0")
        .doesNotContain("web-1");
  }

  @Test
  void withoutEvictpodforceEmptyDirAndUnreplicatedPodsRefuseTheDrain() throws Exception {
    Fixtures.node(c, "n1", "KubeOS v1", false);
    Fixtures.pod(c, "cache", "n1", "ReplicaSet", true, "cache");
    Fixtures.pod(c, "lonely", "n1", null, false, "lonely");
    Fixtures.pod(c, "web-1", "n1", "ReplicaSet", false, "web");
    Fixtures.pod(c, "logs", "n1", "DaemonSet", true, "logs");
    Fixtures.mirrorPod(c, "etcd-n1", "n1");
    OS os = Fixtures.os(c, OpsType.UPGRADE, "KubeOS v2", 60);
    Fixtures.instance(c, "n1", os, "upgrade");

    driver.run(driver.proxy(c, agent, Driver.FAST), 100);

    assertThat(driver.phases).endsWith("Draining", "Failed");
    assertThat(driver.instance().getStatus().getMessage())
        .contains("evictpodforce")
        .contains("default/cache: uses emptyDir")
        .contains("default/lonely: not managed by a controller")
        .doesNotContain("web-1")
        .doesNotContain("logs")
        .doesNotContain("etcd-n1");
    assertThat(cluster.dispatcher.evictions).as("nothing evicted").isEmpty();
    assertThat(agent.count("upgrade")).isZero();
    assertThat(c.nodes().withName("n1").get().getSpec().getUnschedulable())
        .isNotEqualTo(Boolean.TRUE);
  }

  @Test
  void withEvictpodforceThoseArePodsEvictedButDaemonSetAndMirrorPodsStay() throws Exception {
    Fixtures.node(c, "n1", "KubeOS v1", false);
    Fixtures.pod(c, "cache", "n1", "ReplicaSet", true, "cache");
    Fixtures.pod(c, "lonely", "n1", null, false, "lonely");
    Fixtures.pod(c, "logs", "n1", "DaemonSet", true, "logs");
    Fixtures.mirrorPod(c, "etcd-n1", "n1");
    OS os = Fixtures.os(c, OpsType.UPGRADE, "KubeOS v2", 60);
    os.getSpec().setEvictpodforce(true);
    c.resources(OS.class).resource(os).update();
    Fixtures.instance(c, "n1", os, "upgrade");

    driver.run(driver.proxy(c, agent, Driver.FAST), 100);

    assertThat(driver.phases).endsWith("Uncordoning", "Done");
    assertThat(cluster.dispatcher.evictions)
        .extracting(EvictionDispatcher.Eviction::pod)
        .containsExactlyInAnyOrder("default/cache", "default/lonely");
    assertThat(c.pods().inNamespace("default").list().getItems())
        .extracting(p -> p.getMetadata().getName())
        .containsExactlyInAnyOrder("logs", "etcd-n1");
    assertThat(agent.count("upgrade")).isEqualTo(1);
  }
}
