package dev.kubeos.cluster.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.cluster.proxy.model.Step;
import dev.kubeos.crd.OS;
import dev.kubeos.crd.OSInstance;
import dev.kubeos.crd.OpsType;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The node reports the new {@code osImage} and a new {@code bootID} as soon as it is up, as a
 * kubelet does, while its agent still runs the boot-once trial that the health check has to commit:
 * the proxy keeps the node cordoned in {@code Verifying} and asks the agent until it commits (then
 * uncordon and Done) or the trial fails (then the fallback boot fails the node with the agent's
 * reason). fabric8's mock API server in CRUD mode; the in-memory agent with the real agent's A/B
 * model ({@link MemoryAgent}).
 */
class CommitGateIT {
  MockCluster cluster;
  KubernetesClient c;

  /** The proxies' client, as {@code kubeos proxy} builds it. */
  KubernetesClient p;

  Driver driver;
  MemoryAgent agent;

  @BeforeEach
  void start() {
    cluster = new MockCluster();
    c = cluster.client();
    p = cluster.proxyClient();
    driver = new Driver(c, "n1");
    Fixtures.node(c, "n1", "KubeOS v1", false);
    Fixtures.pod(c, "web-1", "n1", "ReplicaSet", false, "web");
    OS os = Fixtures.os(c, OpsType.UPGRADE, "KubeOS v2", 60);
    os.getSpec().setSysconfigs(Fixtures.sysconfigs("s1", "net.ipv4.ip_forward", "1"));
    Fixtures.instance(c, "n1", os, "upgrade");
    agent = new MemoryAgent(c, "n1", 50);
    agent.healthCommits = false; // the node's health check decides when the test says so
  }

  @AfterEach
  void stop() {
    p.close();
    c.close();
    cluster.close();
  }

  @Test
  void aNodeThatReportsTheNewVersionIsNotUncordonedBeforeItsTrialIsCommitted() throws Exception {
    NodeProxy proxy = driver.proxy(p, agent, Driver.FAST);
    upToTheTrialBoot(proxy);

    // the kubelet's report is in; the health check still runs: wait, cordoned, asking the agent
    long asked = agent.count("status");
    for (int pass = 0; pass < 5; pass++) {
      assertThat(proxy.runOnce()).isInstanceOf(Step.Poll.class);
      driver.operatorTurn();
    }
    assertThat(agent.count("status")).as("asked on every pass").isEqualTo(asked + 5);
    assertStillWaiting("waiting for its health check to commit it", "boot-once trial");

    // the agent cannot be reached for a while (socket-activated agent restarting): still waiting
    agent.statusFails = ErrorCode.IO_ERROR;
    assertThat(proxy.runOnce()).isInstanceOf(Step.Poll.class);
    assertStillWaiting("the agent cannot be reached yet", "[IO_ERROR]");
    agent.statusFails = null;
    assertThat(proxy.runOnce()).isInstanceOf(Step.Poll.class);
    assertStillWaiting("boot-once trial");

    // the health check passes and the agent commits: uncordon and Done
    agent.passHealth();
    driver.run(proxy, 100);

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
    Node n = c.nodes().withName("n1").get();
    assertThat(n.getSpec().getUnschedulable()).isNotEqualTo(Boolean.TRUE);
    assertThat(Fixtures.nodeEvents(c, "n1")).contains("Rebooted", "Upgraded");
    assertThat(agent.actions())
        .containsExactly("prepare_upgrade KubeOS v2", "upgrade", "configure s1");
    OSInstance i = driver.instance();
    assertThat(i.getStatus().getPhase()).isEqualTo("Done");
    assertThat(i.getStatus().getTarget()).isEqualTo("KubeOS v2");

    // over: the proxy no longer asks the agent
    long after = agent.count("status");
    assertThat(proxy.runOnce()).isInstanceOf(Step.Nothing.class);
    assertThat(proxy.runOnce()).isInstanceOf(Step.Nothing.class);
    assertThat(agent.count("status")).isEqualTo(after);
  }

  /**
   * Issue 12 scenario 3 with a kubelet that reports at boot: the trial's health check fails after
   * the node reported the new version; the node never goes on, and the fallback boot fails it with
   * the agent's reason.
   */
  @Test
  void aTrialWhoseHealthCheckFailsAfterTheReportFailsTheNodeWithTheAgentsReason() throws Exception {
    NodeProxy proxy = driver.proxy(p, agent, Driver.FAST);
    upToTheTrialBoot(proxy);
    assertThat(proxy.runOnce()).isInstanceOf(Step.Poll.class);

    agent.manualReboots = true;
    agent.failHealth("KubeOS v1");
    // before the fallback reboot: the agent recorded the failed trial; still no going on
    assertThat(proxy.runOnce()).isInstanceOf(Step.Poll.class);
    assertStillWaiting("failed its trial", "failed its health check");

    // the fallback boot, reported by the kubelet before the proxy's next pass
    agent.bootPending();
    agent.reportPending();
    runUntilFailed(proxy, "the fallback boot fails the node");

    assertThat(driver.phases)
        .containsExactly("Staging", "Cordoning", "Draining", "Rebooting", "Verifying", "Failed");
    assertThat(driver.instance().getStatus().getMessage())
        .contains("runs 'KubeOS v1', expected 'KubeOS v2'")
        .contains("fell back")
        .contains("; the agent: trial boot of slot B (KubeOS v2) failed its health check");
    assertThat(Fixtures.nodeEvents(c, "n1")).contains("Warning: Failed").doesNotContain("Upgraded");
    assertThat(agent.actions()).doesNotContain("configure s1");
    assertThat(agent.boots.get()).as("the trial boot and the fallback boot").isEqualTo(2);
    assertThat(c.nodes().withName("n1").get().getSpec().getUnschedulable())
        .as("uncordoned once failed, on the old version")
        .isNotEqualTo(Boolean.TRUE);
  }

  /**
   * The fallback boot's agent answers before its kubelet reports: the Node still shows the trial
   * boot at the target, the agent is up again on the old slot. The agent's word fails the node at
   * once, with the agent's reason.
   */
  @Test
  void aFallbackTheAgentReportsBeforeTheKubeletFailsTheNodeWithTheAgentsReason() throws Exception {
    NodeProxy proxy = driver.proxy(p, agent, Driver.FAST);
    upToTheTrialBoot(proxy);
    agent.manualReboots = true;
    agent.failHealth("KubeOS v1");
    agent.bootPending(); // the Node keeps the trial's osImage and bootID

    runUntilFailed(proxy, "the agent's answer fails the node");

    assertThat(c.nodes().withName("n1").get().getStatus().getNodeInfo().getBootID())
        .as("the kubelet has not reported the fallback boot")
        .isEqualTo("boot-n1-1");
    assertThat(driver.phases)
        .containsExactly("Staging", "Cordoning", "Draining", "Rebooting", "Verifying", "Failed");
    assertThat(driver.instance().getStatus().getMessage())
        .contains("the node reports 'KubeOS v2' but the agent reports that the booted slot A")
        .contains("(its last failure: trial boot of slot B (KubeOS v2) failed its health check)");
    assertThat(Fixtures.nodeEvents(c, "n1")).contains("Warning: Failed").doesNotContain("Upgraded");
    assertThat(agent.actions()).doesNotContain("configure s1");
    assertThat(c.nodes().withName("n1").get().getSpec().getUnschedulable())
        .as("uncordoned once failed")
        .isNotEqualTo(Boolean.TRUE);
  }

  /**
   * The proxy's own loop: nothing in the API server changes while the agent has not committed, so
   * the loop asks the agent every {@link ProxyConfig#commitPoll()} until it does.
   */
  @Test
  void theRunningProxyAsksTheAgentUntilItCommits() throws Exception {
    NodeProxy proxy = driver.proxy(p, agent, Driver.FAST);
    upToTheTrialBoot(proxy);
    List<Throwable> crashes = new CopyOnWriteArrayList<>();
    ProxyConfig config =
        new ProxyConfig(
            Duration.ofMillis(20),
            Duration.ofMinutes(1),
            Duration.ofMinutes(1),
            Duration.ofHours(1), // no resync: only the commit poll can wake it
            Duration.ofHours(1),
            Duration.ofMillis(20));
    NodeProxy running = new NodeProxy(c, "n1", Fixtures.NS, agent, config, Clock.systemUTC());
    running.start((t, e) -> crashes.add(e));
    try {
      long asked = agent.count("status");
      await("the proxy keeps asking the agent while the trial is pending")
          .atMost(Duration.ofMinutes(1))
          .until(() -> agent.count("status") >= asked + 5);
      assertStillWaiting("waiting for its health check to commit it");

      agent.passHealth();
      await("committed: uncordoned and Done")
          .atMost(Duration.ofMinutes(1))
          .until(
              () ->
                  "Done".equals(driver.instance().getStatus().getPhase())
                      && !Boolean.TRUE.equals(
                          c.nodes().withName("n1").get().getSpec().getUnschedulable()));
    } finally {
      assertThat(running.stop(Duration.ofSeconds(5), Duration.ofSeconds(5))).isTrue();
    }
    assertThat(crashes).isEmpty();
    assertThat(agent.count("upgrade")).isEqualTo(1);
  }

  /**
   * Drives the proxy (and the operator's drain) until the node has rebooted into the trial of v2
   * and reports it: the new osImage and a new bootID, the trial not committed.
   */
  private void upToTheTrialBoot(NodeProxy proxy) {
    await("the node reports KubeOS v2 from its trial boot; the proxy verifies")
        .atMost(Duration.ofMinutes(1))
        .pollInterval(Duration.ofMillis(20))
        .until(
            () -> {
              proxy.runOnce();
              driver.operatorTurn();
              driver.note();
              return "Verifying".equals(driver.instance().getStatus().getPhase());
            });
    Node n = c.nodes().withName("n1").get();
    assertThat(n.getStatus().getNodeInfo().getOsImage()).isEqualTo("KubeOS v2");
    assertThat(n.getStatus().getNodeInfo().getBootID()).isEqualTo("boot-n1-1");
    assertThat(agent.inTrial()).as("the trial is not committed").isTrue();
  }

  /** Runs the proxy's passes until it records Failed. */
  private void runUntilFailed(NodeProxy proxy, String why) {
    await(why)
        .atMost(Duration.ofMinutes(1))
        .pollInterval(Duration.ofMillis(20))
        .until(
            () -> {
              proxy.runOnce();
              driver.note();
              return "Failed".equals(driver.instance().getStatus().getPhase());
            });
  }

  /** The node is cordoned in Verifying, not Done, and the status message says what it waits for. */
  private void assertStillWaiting(String... message) {
    OSInstance i = driver.instance();
    assertThat(i.getStatus().getPhase()).isEqualTo("Verifying");
    assertThat(i.getStatus().getMessage()).contains(message);
    assertThat(c.nodes().withName("n1").get().getSpec().getUnschedulable())
        .as("still cordoned")
        .isTrue();
    assertThat(Fixtures.nodeEvents(c, "n1")).doesNotContain("Upgraded");
    assertThat(agent.actions())
        .as("no sysconfigs before the commit")
        .doesNotContain("configure s1");
  }
}
