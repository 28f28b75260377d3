package dev.kubeos.cluster.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.cluster.proxy.model.Step;
import dev.kubeos.crd.OS;
import dev.kubeos.crd.OSInstance;
import dev.kubeos.crd.OpsType;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The proxy end to end against fabric8's CRUD mock API server, with an in-memory agent. */
class NodeProxyIT {
  MockCluster cluster;
  KubernetesClient c;

  /** The proxies' client, as {@code kubeos proxy} builds it. */
  KubernetesClient p;

  Driver driver;

  @BeforeEach
  void start() {
    cluster = new MockCluster();
    c = cluster.client();
    p = cluster.proxyClient();
    driver = new Driver(c, "n1");
  }

  @AfterEach
  void stop() {
    p.close();
    c.close();
    cluster.close();
  }

  /**
   * Node registration, as upstream's proxy: with no OSInstance, the proxy creates its node's, named
   * after the node, idle, labelled with the node and owned by it; not while the Node is missing.
   */
  @Test
  void registersItsNodeWhenTheNodeExists() throws Exception {
    NodeProxy proxy = driver.proxy(p, new MemoryAgent(c, "n1", 100), Driver.FAST);
    assertThat(proxy.runOnce()).isInstanceOf(Step.Wait.class);
    assertThat(driver.instance()).as("no Node, no OSInstance").isNull();

    Fixtures.node(c, "n1", "KubeOS v1", false);
    assertThat(proxy.runOnce()).isEqualTo(new Step.Register("default/n1"));
    OSInstance i = driver.instance();
    assertThat(i.getSpec().getNodestatus()).isEqualTo("idle");
    assertThat(i.getMetadata().getLabels()).containsEntry(OSInstance.NODE_LABEL, "n1");
    assertThat(i.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(
            o -> {
              assertThat(o.getKind()).isEqualTo("Node");
              assertThat(o.getName()).isEqualTo("n1");
              assertThat(o.getUid())
                  .isEqualTo(c.nodes().withName("n1").get().getMetadata().getUid());
            });
    assertThat(proxy.runOnce()).isInstanceOf(Step.Nothing.class);
    assertThat(driver.instance().getMetadata().getResourceVersion())
        .as("an idle registered node is not written again")
        .isEqualTo(i.getMetadata().getResourceVersion());
  }

  /**
   * Two proxies of one node (a restart overlapping the old pod) race to register it: the loser's
   * create answers 409 Conflict, which means the OSInstance exists, and that is fine.
   */
  @Test
  void registrationRaceIsHarmless() {
    Node n = Fixtures.node(c, "n1", "KubeOS v1", false);
    var first = new InstanceStatusWriter(c, Fixtures.NS, "n1", java.time.Clock.systemUTC());
    var second = new InstanceStatusWriter(c, Fixtures.NS, "n1", java.time.Clock.systemUTC());
    assertThat(first.register(n)).isTrue();
    String rv = driver.instance().getMetadata().getResourceVersion();
    assertThat(second.register(n)).as("409: someone else created it").isFalse();
    assertThat(driver.instance().getMetadata().getResourceVersion()).isEqualTo(rv);
    assertThat(c.resources(OSInstance.class).inNamespace(Fixtures.NS).list().getItems()).hasSize(1);
  }

  @Test
  void fullUpgradeOfOneNode() throws Exception {
    Fixtures.node(c, "n1", "KubeOS v1", false);
    Fixtures.pod(c, "web-1", "n1", "ReplicaSet", false, "web");
    Fixtures.pod(c, "web-2", "n1", "ReplicaSet", false, "web");
    Fixtures.pod(c, "elsewhere", "n2", "ReplicaSet", false, "web");
    Fixtures.pod(c, "logs", "n1", "DaemonSet", false, "logs");
    Fixtures.mirrorPod(c, "etcd-n1", "n1");
    OS os = Fixtures.os(c, OpsType.UPGRADE, "KubeOS v2", 60);
    os.getSpec().setSysconfigs(Fixtures.sysconfigs("s1", "net.ipv4.ip_forward", "1"));
    os.getSpec().setUpgradeconfigs(Fixtures.sysconfigs("u1", "kernel.pid_max", "65536"));
    Fixtures.instance(c, "n1", os, "upgrade");
    MemoryAgent agent = new MemoryAgent(c, "n1", 100);

    driver.run(driver.proxy(p, agent, Driver.FAST), 100);

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
    assertThat(agent.actions())
        .containsExactly("prepare_upgrade KubeOS v2", "configure u1", "upgrade", "configure s1");
    assertThat(agent.count("status")).as("the commit confirmed by the agent").isPositive();
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
    // the bootID before the reboot request is recorded; the reboot changed it
    assertThat(i.getStatus().getBootid()).isEqualTo("boot-n1-0");
    assertThat(n.getStatus().getNodeInfo().getBootID()).isEqualTo("boot-n1-1");
    assertThat(Fixtures.nodeEvents(c, "n1"))
        .containsExactlyInAnyOrder("Staged", "Draining", "Rebooting", "Rebooted", "Upgraded");
    var e =
        c.v1().events().inNamespace("default").list().getItems().stream()
            .filter(x -> "Upgraded".equals(x.getReason()))
            .findFirst()
            .orElseThrow();
    assertThat(e.getInvolvedObject().getUid()).isEqualTo(n.getMetadata().getUid()).isNotNull();
    assertThat(e.getSource().getComponent()).isEqualTo("kubeos-proxy");
    assertThat(e.getMessage()).isEqualTo("upgrade to KubeOS v2 done");
    assertThat(Fixtures.eventMessage(c, "n1", "Rebooting"))
        .contains("drained 2 pods")
        .contains("into KubeOS v2");
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

    driver.run(driver.proxy(p, agent, Driver.FAST), 100);

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
    assertThat(Fixtures.nodeEvents(c, "n1")).containsExactly("Configured");
  }

  /**
   * The agent applied the settings but skipped entries upstream skips (its answer {@code
   * {"status":"Configured","warnings":[...]}}): the node is configured, and the warnings become a
   * Warning Event on the Node.
   */
  @Test
  void configureWarningsBecomeAWarningEventOnTheNode() throws Exception {
    Fixtures.node(c, "n1", "KubeOS v1", false);
    OS os = Fixtures.os(c, OpsType.CONFIG, "KubeOS v1", null);
    os.getSpec().setSysconfigs(Fixtures.sysconfigs("c3", "vm.swappiness", "10"));
    Fixtures.instance(c, "n1", os, "config");
    MemoryAgent agent = new MemoryAgent(c, "n1", 100);
    agent.configureWarnings =
        List.of(
            "kernel.sysctl: 'vm.overcommit_memory' with operation delete skipped",
            "kernel.sysctl: an empty key skipped");

    driver.run(driver.proxy(p, agent, Driver.FAST), 100);

    assertThat(driver.phases).containsExactly("Configuring", "Done");
    assertThat(Fixtures.nodeEvents(c, "n1"))
        .containsExactlyInAnyOrder("Warning: ConfigureWarning", "Configured");
    assertThat(Fixtures.eventMessage(c, "n1", "ConfigureWarning"))
        .isEqualTo(
            "sysconfigs c3 applied with 2 entries skipped: kernel.sysctl: 'vm.overcommit_memory'"
                + " with operation delete skipped; kernel.sysctl: an empty key skipped");
  }

  @Test
  void rollbackDrainsAndBootsTheOtherSlot() throws Exception {
    Fixtures.node(c, "n1", "KubeOS v2", false);
    Fixtures.pod(c, "web-1", "n1", "ReplicaSet", false, "web");
    OS os = Fixtures.os(c, OpsType.ROLLBACK, "KubeOS v1", 60);
    Fixtures.instance(c, "n1", os, "rollback");
    MemoryAgent agent = new MemoryAgent(c, "n1", 100);
    agent.otherSlot = "KubeOS v1";

    driver.run(driver.proxy(p, agent, Driver.FAST), 100);

    assertThat(driver.phases)
        .containsExactly("Cordoning", "Draining", "Rebooting", "Verifying", "Uncordoning", "Done");
    assertThat(agent.actions()).containsExactly("rollback");
    assertThat(c.pods().inNamespace("default").withName("web-1").get()).isNull();
    assertThat(c.nodes().withName("n1").get().getSpec().getUnschedulable())
        .isNotEqualTo(Boolean.TRUE);
    assertThat(driver.instance().getStatus().getTarget()).isEqualTo("KubeOS v1");
    assertThat(Fixtures.nodeEvents(c, "n1"))
        .containsExactlyInAnyOrder("Draining", "Rebooting", "Rebooted", "RolledBack");
  }

  /** A new bootID with the old version: the trial fell back; known at once, no timeout needed. */
  @Test
  void aTrialBootThatFellBackFailsTheNodeAtOnceAndUncordonsIt() throws Exception {
    Fixtures.node(c, "n1", "KubeOS v1", false);
    OS os = Fixtures.os(c, OpsType.UPGRADE, "KubeOS v2", 60);
    Fixtures.instance(c, "n1", os, "upgrade");
    MemoryAgent agent = new MemoryAgent(c, "n1", 100);
    agent.bootsInto = "KubeOS v1";
    agent.lastFailure = "trial boot of slot B (KubeOS v2) failed its health check: unit x failed";
    // a reboot timeout longer than the driver runs: only the bootID can end the wait
    ProxyConfig longReboot = withRebootTimeout(java.time.Duration.ofMinutes(5));

    driver.run(driver.proxy(p, agent, longReboot), 100);

    assertThat(driver.phases).endsWith("Rebooting", "Failed");
    assertThat(driver.instance().getStatus().getMessage())
        .contains("rebooted (bootID boot-n1-0 -> boot-n1-1)")
        .contains("came back at 'KubeOS v1', expected 'KubeOS v2'")
        .contains("fell back")
        .endsWith("; the agent: " + agent.lastFailure);
    assertThat(Fixtures.eventMessage(c, "n1", "Failed"))
        .as("the Warning Event says why too")
        .contains("failed its health check: unit x failed");
    assertThat(agent.count("status")).as("asked once, for the reason").isEqualTo(1);
    assertThat(agent.count("upgrade")).isEqualTo(1);
    assertThat(agent.boots.get()).isEqualTo(1);
    assertThat(c.nodes().withName("n1").get().getSpec().getUnschedulable())
        .isNotEqualTo(Boolean.TRUE);
    assertThat(Fixtures.nodeEvents(c, "n1")).contains("Warning: Failed").doesNotContain("Rebooted");
  }

  /** The agent cannot say why (not reachable): the node fails all the same, saying so. */
  @Test
  void aFallenBackTrialFailsEvenWhenTheAgentCannotSayWhy() throws Exception {
    Fixtures.node(c, "n1", "KubeOS v1", false);
    OS os = Fixtures.os(c, OpsType.UPGRADE, "KubeOS v2", 60);
    Fixtures.instance(c, "n1", os, "upgrade");
    MemoryAgent agent = new MemoryAgent(c, "n1", 100);
    agent.bootsInto = "KubeOS v1";
    agent.statusFails = ErrorCode.IO_ERROR;

    driver.run(driver.proxy(p, agent, withRebootTimeout(java.time.Duration.ofMinutes(5))), 100);

    assertThat(driver.phases).endsWith("Rebooting", "Failed");
    assertThat(driver.instance().getStatus().getMessage())
        .contains("fell back")
        .contains("the agent's status could not be read: cannot connect to the agent's socket");
    assertThat(c.nodes().withName("n1").get().getSpec().getUnschedulable())
        .isNotEqualTo(Boolean.TRUE);
  }

  /** The same bootID: the reboot has not happened; the proxy waits, then fails saying so. */
  @Test
  void aRebootThatNeverHappensIsAwaitedUntilTheRebootTimeout() throws Exception {
    Fixtures.node(c, "n1", "KubeOS v1", false);
    OS os = Fixtures.os(c, OpsType.UPGRADE, "KubeOS v2", 60);
    Fixtures.instance(c, "n1", os, "upgrade");
    MemoryAgent agent = new MemoryAgent(c, "n1", 100);
    agent.neverReboots = true;
    ProxyConfig shortReboot = withRebootTimeout(java.time.Duration.ofMillis(800));

    driver.run(driver.proxy(p, agent, shortReboot), 100);

    assertThat(driver.phases).endsWith("Rebooting", "Failed");
    assertThat(driver.instance().getStatus().getMessage())
        .contains("did not reboot within 0.8 s")
        .contains("bootID still boot-n1-0")
        .doesNotContain("fell back")
        .doesNotContain("; the agent: ");
    assertThat(agent.count("status")).as("no fallback, no reason asked").isZero();
    assertThat(agent.count("upgrade")).isEqualTo(1);
    assertThat(agent.boots.get()).isZero();
    assertThat(c.nodes().withName("n1").get().getSpec().getUnschedulable())
        .isNotEqualTo(Boolean.TRUE);
  }

  private static ProxyConfig withRebootTimeout(java.time.Duration timeout) {
    return new ProxyConfig(
        Driver.FAST.pollInterval(),
        timeout,
        Driver.FAST.defaultDrainTimeout(),
        Driver.FAST.resync());
  }

  @Test
  void aNodeCordonedBySomeoneElseStaysCordoned() throws Exception {
    Fixtures.node(c, "n1", "KubeOS v1", true);
    Fixtures.pod(c, "web-1", "n1", "ReplicaSet", false, "web");
    OS os = Fixtures.os(c, OpsType.UPGRADE, "KubeOS v2", 60);
    Fixtures.instance(c, "n1", os, "upgrade");
    MemoryAgent agent = new MemoryAgent(c, "n1", 50);

    driver.run(driver.proxy(p, agent, Driver.FAST), 100);

    assertThat(driver.phases).endsWith("Uncordoning", "Done");
    Node n = c.nodes().withName("n1").get();
    assertThat(n.getSpec().getUnschedulable()).isTrue();
    assertThat(n.getMetadata().getAnnotations()).doesNotContainKey(NodeCordon.CORDONED_BY_PROXY);
    assertThat(agent.calls).contains("upgrade");
  }
}
