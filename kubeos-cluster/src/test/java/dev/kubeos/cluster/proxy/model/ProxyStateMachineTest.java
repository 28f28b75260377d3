package dev.kubeos.cluster.proxy.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The proxy's decisions, one row per rule. */
class ProxyStateMachineTest {
  static final Instant NOW = Instant.parse("2026-03-02T10:00:00Z");
  static final Duration REBOOT = Duration.ofMinutes(15);

  static Observed obs(
      ProxyOperation op,
      String want,
      Phase phase,
      String statusTarget,
      String osImage,
      int agoSec) {
    return obs(op, want, phase, statusTarget, osImage, agoSec, null, null);
  }

  static Observed obs(
      ProxyOperation op,
      String want,
      Phase phase,
      String statusTarget,
      String osImage,
      int agoSec,
      String bootId,
      String bootIdAtReboot) {
    return new Observed(
        op,
        want,
        want == null ? "OS resource default/os missing" : null,
        phase,
        statusTarget,
        NOW.minusSeconds(agoSec),
        osImage,
        bootId,
        bootIdAtReboot,
        NOW,
        new PhaseTimeouts(Duration.ofMinutes(10), REBOOT, REBOOT));
  }

  /** {@code o} with the agent's status: the booted slot B holds the target and is committed. */
  static Observed committed(Observed o) {
    return o.withAgent(
        new AgentAnswer.Status(
            ProxyStateMachineCommitTest.status(
                dev.kubeos.api.agent.Slot.B,
                dev.kubeos.api.agent.Slot.B,
                null,
                false,
                o.desiredTarget(),
                dev.kubeos.api.agent.SlotState.VERIFIED,
                null)));
  }

  static Observed drained(Observed o, boolean drained) {
    return o.withDrain(new DrainAnswer(drained, drained ? "drained 1 pods" : "pods left: a/b"));
  }

  static Stream<Arguments> table() {
    ProxyOperation up = ProxyOperation.UPGRADE;
    return Stream.of(
        Arguments.of(obs(null, null, Phase.IDLE, null, "v1", 0), "Nothing"),
        Arguments.of(obs(null, null, Phase.DONE, "v2", "v2", 0), "Nothing"),
        Arguments.of(obs(null, null, Phase.DRAINING, "v2", "v1", 0), "Abort"),
        Arguments.of(obs(up, null, Phase.IDLE, null, "v1", 0), "Wait"),
        Arguments.of(obs(up, "v2", Phase.IDLE, null, "v1", 0), "Start"),
        Arguments.of(obs(up, "v2", Phase.DONE, "v1", "v1", 0), "Start"),
        Arguments.of(obs(up, "v3", Phase.DRAINING, "v2", "v1", 0), "Abort"),
        Arguments.of(obs(up, "v2", Phase.STAGING, "v2", "v1", 0), "Act"),
        Arguments.of(obs(up, "v2", Phase.CORDONING, "v2", "v1", 0), "Act"),
        // the operator drains: wait for its answer; reboot (the action) only on its "drained"
        Arguments.of(obs(up, "v2", Phase.DRAINING, "v2", "v1", 0), "Wait"),
        Arguments.of(drained(obs(up, "v2", Phase.DRAINING, "v2", "v1", 0), true), "Act"),
        Arguments.of(drained(obs(up, "v2", Phase.DRAINING, "v2", "v1", 0), false), "Fail"),
        Arguments.of(obs(up, "v2", Phase.DRAINING, "v2", "v1", 11 * 60), "Fail"),
        Arguments.of(obs(up, "v2", Phase.REBOOTING, "v2", "v1", 60), "Wait"),
        Arguments.of(obs(up, "v2", Phase.REBOOTING, "v2", "v1", 15 * 60), "Fail"),
        Arguments.of(obs(up, "v2", Phase.REBOOTING, "v2", "v2", 60), "Advance"),
        // bootID: the same one = the reboot is still to come; a new one at v1 = it fell back
        Arguments.of(obs(up, "v2", Phase.REBOOTING, "v2", "v1", 60, "b0", "b0"), "Wait"),
        Arguments.of(obs(up, "v2", Phase.REBOOTING, "v2", "v1", 15 * 60, "b0", "b0"), "Fail"),
        Arguments.of(obs(up, "v2", Phase.REBOOTING, "v2", "v1", 1, "b1", "b0"), "Fail"),
        Arguments.of(obs(up, "v2", Phase.REBOOTING, "v2", "v2", 1, "b1", "b0"), "Advance"),
        Arguments.of(obs(up, "v2", Phase.REBOOTING, "v2", "v1", 60, "b1", null), "Wait"),
        Arguments.of(obs(up, "v2", Phase.REBOOTING, "v2", "v1", 60, null, "b0"), "Wait"),
        Arguments.of(committed(obs(up, "v2", Phase.VERIFYING, "v2", "v2", 0)), "Advance"),
        // back at the target, the commit not confirmed by the agent (not asked): ask
        Arguments.of(obs(up, "v2", Phase.VERIFYING, "v2", "v2", 0), "Poll"),
        Arguments.of(obs(up, "v2", Phase.VERIFYING, "v2", "v1", 0), "Fail"),
        Arguments.of(obs(up, "v2", Phase.CONFIGURING, "v2", "v2", 0), "Act"),
        Arguments.of(obs(up, "v2", Phase.UNCORDONING, "v2", "v2", 0), "Act"),
        // the attempt is over: the operator hands the node back, the proxy writes no spec
        Arguments.of(obs(up, "v2", Phase.DONE, "v2", "v2", 0), "Wait"),
        Arguments.of(obs(up, "v2", Phase.FAILED, "v2", "v1", 0), "Wait"),
        Arguments.of(obs(ProxyOperation.CONFIG, "c1", Phase.STAGING, "c1", "v1", 0), "Abort"),
        Arguments.of(
            committed(obs(ProxyOperation.ROLLBACK, "v1", Phase.VERIFYING, "v1", "v1", 0)),
            "Advance"));
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @MethodSource("table")
  void decides(Observed o, String expected) {
    assertThat(ProxyStateMachine.decide(o).getClass().getSimpleName()).isEqualTo(expected);
  }

  @Test
  void aNodeWithoutOsInstanceIsRegisteredOnlyIfTheNodeExists() {
    assertThat(ProxyStateMachine.unregistered(true, "default/n1"))
        .isEqualTo(new Step.Register("default/n1"));
    assertThat(ProxyStateMachine.unregistered(false, "default/n1"))
        .isInstanceOfSatisfying(
            Step.Wait.class, w -> assertThat(w.why()).contains("default/n1", "--node"));
  }

  @Test
  void anOverAttemptWaitsForTheOperatorToHandTheNodeBack() {
    assertThat(
            ProxyStateMachine.decide(obs(ProxyOperation.UPGRADE, "v2", Phase.DONE, "v2", "v2", 0)))
        .isEqualTo(
            new Step.Wait(
                "the attempt at v2 is over (Done); waiting for kubeos-operator to hand the node"
                    + " back (spec.nodestatus: idle)"));
  }

  @Test
  void anUndrainedNodeIsNeverRebooted() {
    // without the operator's "drained", DRAINING never leads to the action (the reboot request)
    for (int ago : new int[] {0, 1, 599, 600, 659, 660, 10_000}) {
      Observed o = obs(ProxyOperation.UPGRADE, "v2", Phase.DRAINING, "v2", "v1", ago);
      assertThat(ProxyStateMachine.decide(o)).isNotInstanceOf(Step.Act.class);
      assertThat(ProxyStateMachine.decide(drained(o, false))).isNotInstanceOf(Step.Act.class);
    }
  }

  @Test
  void aResumedRebootIsNeverRequestedAgain() {
    // REBOOTING only ever observes: Wait, Advance or Fail, never an action that calls the agent
    for (int ago : new int[] {0, 1, 899, 900, 10_000}) {
      for (String image : new String[] {"v1", "v2", null}) {
        Step s =
            ProxyStateMachine.decide(
                obs(ProxyOperation.UPGRADE, "v2", Phase.REBOOTING, "v2", image, ago));
        assertThat(s).isNotInstanceOf(Step.Act.class);
      }
    }
  }

  @Test
  void verifiedNodesGoOnToTheOperationsNextStep() {
    assertThat(
            ProxyStateMachine.decide(
                committed(obs(ProxyOperation.UPGRADE, "v2", Phase.VERIFYING, "v2", "v2", 0))))
        .isEqualTo(new Step.Advance(Phase.CONFIGURING));
    assertThat(
            ProxyStateMachine.decide(
                committed(obs(ProxyOperation.ROLLBACK, "v1", Phase.VERIFYING, "v1", "v1", 0))))
        .isEqualTo(new Step.Advance(Phase.UNCORDONING));
  }

  @Test
  void operationsListTheirPhasesInOrder() {
    assertThat(ProxyOperation.UPGRADE.steps())
        .containsExactly(
            Phase.STAGING,
            Phase.CORDONING,
            Phase.DRAINING,
            Phase.REBOOTING,
            Phase.VERIFYING,
            Phase.CONFIGURING,
            Phase.UNCORDONING,
            Phase.DONE);
    assertThat(ProxyOperation.CONFIG.steps()).containsExactly(Phase.CONFIGURING, Phase.DONE);
    assertThat(ProxyOperation.ROLLBACK.first()).isEqualTo(Phase.CORDONING);
    assertThat(ProxyOperation.UPGRADE.after(Phase.DRAINING)).isEqualTo(Phase.REBOOTING);
    assertThat(ProxyOperation.of("idle")).isNull();
    assertThat(Phase.parse("Draining")).isEqualTo(Phase.DRAINING);
    assertThat(Phase.parse(null)).isEqualTo(Phase.IDLE);
  }

  @Test
  void aFailedRebootSaysWhatTheNodeRuns() {
    Step s =
        ProxyStateMachine.decide(
            obs(ProxyOperation.UPGRADE, "v2", Phase.REBOOTING, "v2", "v1", 901));
    assertThat(((Step.Fail) s).message()).contains("v2").contains("'v1'").contains("900 s");
  }

  @Test
  void aNewBootIdAtTheOldVersionMeansTheTrialFellBack() {
    Step s =
        ProxyStateMachine.decide(
            obs(ProxyOperation.UPGRADE, "v2", Phase.REBOOTING, "v2", "v1", 1, "b1", "b0"));
    assertThat(((Step.Fail) s).message())
        .contains("rebooted (bootID b0 -> b1)")
        .contains("'v1'")
        .contains("fell back");
  }

  @Test
  void theSameBootIdAfterTheTimeoutMeansTheRebootDidNotHappen() {
    Step s =
        ProxyStateMachine.decide(
            obs(ProxyOperation.UPGRADE, "v2", Phase.REBOOTING, "v2", "v1", 900, "b0", "b0"));
    assertThat(((Step.Fail) s).message())
        .contains("did not reboot within 900 s")
        .contains("bootID still b0")
        .doesNotContain("fell back");
  }
}
