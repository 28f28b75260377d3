package dev.kubeos.cluster.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubeos.api.crd.OS;
import dev.kubeos.api.crd.OSInstance;
import dev.kubeos.api.crd.OpsType;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The proxy end to end against fabric8's CRUD mock API server, with an in-memory agent. */
class NodeProxyIT {
  MockCluster cluster;
  KubernetesClient c;
  Driver driver;

  @BeforeEach
  void start() {
    cluster = new MockCluster();
    c = cluster.client();
    driver = new Driver(c, "n1");
  }

  @AfterEach
  void stop() {
    c.close();
    cluster.close();
  }

  @Test
  void fullUpgradeOfOneNode() throws Exception {
    Fixtures.node(c, "n1", "KubeOS v1", false);
    Fixtures.pod(c, "web-1", "n1", "ReplicaSet", false, "web");
    Fixtures.pod(c, "web-2", "n1", "ReplicaSet", false, "web");
    Fixtures.pod(c, "elsewhere", "n2", "ReplicaSet", false, "web");
    Fixtures.pod(c, "logs", "n1", "DaemonSet", false, "logs");
    Fixtures.mirrorPod(c, "etcd-n1", "n1");
    OS os = Fixtures.os(c, OpsType.UPGRADE, "KubeOS v2", 5);
    os.getSpec().setSysconfigs(Fixtures.sysconfigs("s1", "net.ipv4.ip_forward", "1"));
    os.getSpec().setUpgradeconfigs(Fixtures.sysconfigs("u1", "kernel.pid_max", "65536"));
    Fixtures.instance(c, "n1", os, "upgrade");
    MemoryAgent agent = new MemoryAgent(c, "n1", 100);

    driver.run(driver.proxy(c, agent, Driver.FAST), 100);

    assertThat(driver.phases)
        .containsExactly(
            "Staging",
            "Cordoning",
            "Draining",
            "Rebooting",
            "Verifying",
            "Configuring",
            "Uncordoning",
            "Done");
    assertThat(agent.calls)
        .containsExactly("prepare_upgrade KubeOS v2", "configure u1", "upgrade", "configure s1");
    assertThat(agent.configured.get(1).configs().get(0).contents())
        .containsKey("net.ipv4.ip_forward");
    assertThat(c.pods().inNamespace("default").list().getItems())
        .extracting(p -> p.getMetadata().getName())
        .containsExactlyInAnyOrder("elsewhere", "logs", "etcd-n1");
    Node n = c.nodes().withName("n1").get();
    assertThat(n.getSpec().getUnschedulable()).isNotEqualTo(Boolean.TRUE);
    assertThat(n.getMetadata().getAnnotations()).doesNotContainKey(NodeCordon.CORDONED_BY_PROXY);
    OSInstance i = driver.instance();
    assertThat(i.getSpec().getNodestatus()).isEqualTo("idle");
    assertThat(i.getStatus().getTarget()).isEqualTo("KubeOS v2");
    assertThat(i.getStatus().getSysconfigs().getVersion()).isEqualTo("s1");
    assertThat(i.getStatus().getUpgradeconfigs().getVersion()).isEqualTo("u1");
    assertThat(i.getStatus().getStarttime()).isNotNull();
    assertThat(i.getStatus().getEndtime()).isGreaterThanOrEqualTo(i.getStatus().getStarttime());
  }

  @Test
  void configOnlyAppliesSysconfigsWithoutCordonDrainOrReboot() throws Exception {
    Fixtures.node(c, "n1", "KubeOS v1", false);
    Fixtures.pod(c, "web-1", "n1", "ReplicaSet", false, "web");
    OS os = Fixtures.os(c, OpsType.CONFIG, "KubeOS v1", null);
    os.getSpec().setSysconfigs(Fixtures.sysconfigs("c2", "vm.swappiness", "10"));
    Fixtures.instance(c, "n1", os, "config");
    String nodeVersion = c.nodes().withName("n1").get().getMetadata().getResourceVersion();
    MemoryAgent agent = new MemoryAgent(c, "n1", 100);

    driver.run(driver.proxy(c, agent, Driver.FAST), 100);

    assertThat(driver.phases).containsExactly("Configuring", "Done");
    assertThat(agent.calls).containsExactly("configure c2");
    assertThat(cluster.dispatcher.evictions).isEmpty();
    assertThat(c.pods().inNamespace("default").withName("web-1").get()).isNotNull();
    assertThat(c.nodes().withName("n1").get().getMetadata().getResourceVersion())
        .as("the node object was never written (no cordon)")
        .isEqualTo(nodeVersion);
    OSInstance i = driver.instance();
    assertThat(i.getStatus().getTarget()).isEqualTo("c2");
    assertThat(i.getStatus().getSysconfigs().getVersion()).isEqualTo("c2");
    assertThat(i.getSpec().getNodestatus()).isEqualTo("idle");
  }

  @Test
  void rollbackDrainsAndBootsTheOtherSlot() throws Exception {
    Fixtures.node(c, "n1", "KubeOS v2", false);
    Fixtures.pod(c, "web-1", "n1", "ReplicaSet", false, "web");
    OS os = Fixtures.os(c, OpsType.ROLLBACK, "KubeOS v1", 5);
    Fixtures.instance(c, "n1", os, "rollback");
    MemoryAgent agent = new MemoryAgent(c, "n1", 100);
    agent.otherSlot = "KubeOS v1";

    driver.run(driver.proxy(c, agent, Driver.FAST), 100);

    assertThat(driver.phases)
        .containsExactly("Cordoning", "Draining", "Rebooting", "Verifying", "Uncordoning", "Done");
    assertThat(agent.calls).containsExactly("rollback");
    assertThat(c.pods().inNamespace("default").withName("web-1").get()).isNull();
    assertThat(c.nodes().withName("n1").get().getSpec().getUnschedulable())
        .isNotEqualTo(Boolean.TRUE);
    assertThat(driver.instance().getStatus().getTarget()).isEqualTo("KubeOS v1");
  }

  @Test
  void aTrialBootThatFellBackFailsTheNodeAndUncordonsIt() throws Exception {
    Fixtures.node(c, "n1", "KubeOS v1", false);
    OS os = Fixtures.os(c, OpsType.UPGRADE, "KubeOS v2", 5);
    Fixtures.instance(c, "n1", os, "upgrade");
    MemoryAgent agent = new MemoryAgent(c, "n1", 100);
    agent.bootsInto = "KubeOS v1";
    ProxyConfig shortReboot =
        new ProxyConfig(
            Driver.FAST.pollInterval(),
            java.time.Duration.ofMillis(800),
            Driver.FAST.defaultDrainTimeout(),
            3,
            Driver.FAST.evictionBackoff(),
            Driver.FAST.evictionBackoffMax());

    driver.run(driver.proxy(c, agent, shortReboot), 100);

    assertThat(driver.phases).endsWith("Rebooting", "Failed");
    assertThat(driver.instance().getStatus().getMessage())
        .contains("did not come back at KubeOS v2")
        .contains("KubeOS v1");
    assertThat(agent.count("upgrade")).isEqualTo(1);
    assertThat(c.nodes().withName("n1").get().getSpec().getUnschedulable())
        .isNotEqualTo(Boolean.TRUE);
  }

  @Test
  void aNodeCordonedBySomeoneElseStaysCordoned() throws Exception {
    Fixtures.node(c, "n1", "KubeOS v1", true);
    Fixtures.pod(c, "web-1", "n1", "ReplicaSet", false, "web");
    OS os = Fixtures.os(c, OpsType.UPGRADE, "KubeOS v2", 5);
    Fixtures.instance(c, "n1", os, "upgrade");
    MemoryAgent agent = new MemoryAgent(c, "n1", 50);

    driver.run(driver.proxy(c, agent, Driver.FAST), 100);

    assertThat(driver.phases).endsWith("Uncordoning", "Done");
    Node n = c.nodes().withName("n1").get();
    assertThat(n.getSpec().getUnschedulable()).isTrue();
    assertThat(n.getMetadata().getAnnotations()).doesNotContainKey(NodeCordon.CORDONED_BY_PROXY);
    assertThat(agent.calls).contains("upgrade");
  }
}
