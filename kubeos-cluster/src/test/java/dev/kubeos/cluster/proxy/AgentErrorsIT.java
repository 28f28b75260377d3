package dev.kubeos.cluster.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ConfigureRequest;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.api.agent.UpgradeRequest;
import dev.kubeos.cluster.proxy.model.Step;
import dev.kubeos.crd.OS;
import dev.kubeos.crd.OSInstance;
import dev.kubeos.crd.OpsType;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What the proxy does with the state machine's answer to an agent error, pass by pass against
 * fabric8's CRUD mock API server: a transient error is retried in its phase, one past the phase's
 * limit or one the agent means fails the node, and the reboot request is never sent twice.
 */
class AgentErrorsIT {
  MockCluster cluster;
  KubernetesClient c;
  MemoryAgent memory;
  OS os;

  @BeforeEach
  void start() {
    cluster = new MockCluster();
    c = cluster.client();
    Fixtures.node(c, "n1", "KubeOS v1", false);
    os = Fixtures.os(c, OpsType.UPGRADE, "KubeOS v2", 5);
    Fixtures.instance(c, "n1", os, "upgrade");
    memory = new MemoryAgent(c, "n1", 50);
  }

  @AfterEach
  void stop() {
    c.close();
    cluster.close();
  }

  @Test
  void aBusyAgentIsRetriedInItsPhaseUntilItAnswers() throws Exception {
    AgentClient agent = new Faulty(memory, 2, ErrorCode.BUSY, null);
    NodeProxy proxy = proxy(agent, Driver.FAST);

    assertThat(proxy.runOnce()).isInstanceOf(Step.Start.class);
    for (int i = 0; i < 2; i++) {
      Step s = proxy.runOnce();
      assertThat(s).isInstanceOf(Step.Retry.class);
      assertThat(((Step.Retry) s).why()).contains("[BUSY]").endsWith("retrying Staging");
      assertThat(instance().getStatus().getPhase()).isEqualTo("Staging");
      assertThat(instance().getStatus().getMessage()).endsWith("retrying Staging");
    }
    assertThat(proxy.runOnce()).isInstanceOf(Step.Act.class);
    assertThat(instance().getStatus().getPhase()).isEqualTo("Cordoning");
    assertThat(memory.calls).containsExactly("prepare_upgrade KubeOS v2");
  }

  @Test
  void aBusyAgentPastThePhasesLimitFailsTheNode() throws Exception {
    // the retry window of Staging is the reboot timeout: zero means no retry at all
    ProxyConfig noWindow =
        new ProxyConfig(
            Duration.ofMillis(20), Duration.ZERO, Duration.ofSeconds(5), Duration.ofMillis(20));
    NodeProxy proxy = proxy(new Faulty(memory, 1, ErrorCode.BUSY, null), noWindow);

    proxy.runOnce();
    assertThat(proxy.runOnce()).isInstanceOf(Step.Act.class);

    assertThat(instance().getStatus().getPhase()).isEqualTo("Failed");
    assertThat(instance().getStatus().getMessage())
        .startsWith("Staging failed: agent: ")
        .endsWith("[BUSY]");
    assertThat(Fixtures.nodeEvents(c, "n1")).containsExactly("Warning: Failed");
  }

  @Test
  void anErrorTheAgentMeansFailsTheNodeAtOnce() throws Exception {
    memory.stageFails = ErrorCode.CHECKSUM_MISMATCH;
    NodeProxy proxy = proxy(memory, Driver.FAST);

    proxy.runOnce();
    assertThat(proxy.runOnce()).isInstanceOf(Step.Act.class);

    assertThat(instance().getStatus().getPhase()).isEqualTo("Failed");
    assertThat(instance().getStatus().getMessage())
        .isEqualTo(
            "Staging failed: agent: staging KubeOS v2 failed: the payload's checksum differs"
                + " [CHECKSUM_MISMATCH]");
    assertThat(memory.calls).containsExactly("prepare_upgrade KubeOS v2");
  }

  @Test
  void aRebootRequestThatGotNoAnswerWaitsForTheNodeAndNeverAsksAgain() throws Exception {
    Faulty agent = new Faulty(memory, 0, null, ErrorCode.IO_ERROR);
    NodeProxy proxy = proxy(agent, Driver.FAST);

    Step s = passesUntil(proxy, "Rebooting");
    assertThat(s).isInstanceOf(Step.Act.class);
    assertThat(proxy.runOnce()).isInstanceOf(Step.Wait.class);
    assertThat(proxy.runOnce()).isInstanceOf(Step.Wait.class);

    assertThat(instance().getStatus().getPhase()).isEqualTo("Rebooting");
    assertThat(agent.rebootRequests.get()).isEqualTo(1);
  }

  @Test
  void aRefusedRebootRequestFailsTheNodeAndUncordonsIt() throws Exception {
    Faulty agent = new Faulty(memory, 0, null, ErrorCode.PRECONDITION_FAILED);

    failsAtOnce(agent, "the agent refused to upgrade: refused [PRECONDITION_FAILED]");
  }

  @Test
  void aTransientErrorTheAgentAnsweredFailsTheNodeAtOnceInsteadOfWaitingForAReboot()
      throws Exception {
    Faulty agent = new Faulty(memory, 0, null, ErrorCode.IO_ERROR);
    agent.rebootAnswered = true;

    failsAtOnce(agent, "the agent could not upgrade and will not reboot: refused [IO_ERROR]");
  }

  /** The node fails with {@code message} after one reboot request, uncordoned. */
  private void failsAtOnce(Faulty agent, String message) throws InterruptedException {
    passesUntil(proxy(agent, Driver.FAST), "Failed");

    assertThat(instance().getStatus().getMessage()).isEqualTo(message);
    assertThat(agent.rebootRequests.get()).isEqualTo(1);
    assertThat(c.nodes().withName("n1").get().getSpec().getUnschedulable()).isNotEqualTo(true);
    assertThat(Fixtures.nodeEvents(c, "n1")).endsWith("Rebooting", "Warning: Failed");
  }

  /**
   * Runs passes until {@code phase} is recorded (at most 20), the operator's part for the node (the
   * drain) after each; returns the last pass's step.
   */
  private Step passesUntil(NodeProxy proxy, String phase) throws InterruptedException {
    Driver operator = new Driver(c, "n1");
    for (int i = 0; i < 20; i++) {
      Step s = proxy.runOnce();
      if (phase.equals(instance().getStatus().getPhase())) {
        return s;
      }
      operator.operatorTurn();
    }
    throw new AssertionError("no " + phase + " after 20 passes: " + instance().getStatus());
  }

  private NodeProxy proxy(AgentClient agent, ProxyConfig config) {
    return new NodeProxy(c, "n1", Fixtures.NS, agent, config, Clock.systemUTC());
  }

  private OSInstance instance() {
    return c.resources(OSInstance.class).inNamespace(Fixtures.NS).withName("n1").get();
  }

  /**
   * The in-memory agent behind faults: the first {@code stageFaults} {@code prepare_upgrade} calls
   * fail with {@code stageCode}; every reboot request fails with {@code rebootCode} (if set): as a
   * call that got no answer, or as the agent's own typed answer when {@code rebootAnswered}.
   */
  static final class Faulty implements AgentClient {
    final AgentClient agent;
    final AtomicInteger stageFaults;
    final ErrorCode stageCode;
    final ErrorCode rebootCode;
    final AtomicInteger rebootRequests = new AtomicInteger();
    volatile boolean rebootAnswered;

    Faulty(AgentClient agent, int stageFaults, ErrorCode stageCode, ErrorCode rebootCode) {
      this.agent = agent;
      this.stageFaults = new AtomicInteger(stageFaults);
      this.stageCode = stageCode;
      this.rebootCode = rebootCode;
    }

    @Override
    public void prepareUpgrade(UpgradeRequest request) {
      if (stageFaults.getAndDecrement() > 0) {
        throw new AgentException(stageCode, "busy with another request");
      }
      agent.prepareUpgrade(request);
    }

    @Override
    public void upgrade() {
      rebootRequests.incrementAndGet();
      if (rebootCode != null) {
        throw new AgentException(rebootCode, "refused", rebootAnswered);
      }
      agent.upgrade();
    }

    @Override
    public void rollback() {
      rebootRequests.incrementAndGet();
      agent.rollback();
    }

    @Override
    public java.util.List<String> configure(ConfigureRequest request) {
      return agent.configure(request);
    }

    @Override
    public dev.kubeos.api.agent.AgentStatus status() {
      return agent.status();
    }
  }
}
