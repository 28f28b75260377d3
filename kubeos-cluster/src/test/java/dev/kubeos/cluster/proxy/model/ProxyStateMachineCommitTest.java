package dev.kubeos.cluster.proxy.model;

import static dev.kubeos.api.agent.Slot.A;
import static dev.kubeos.api.agent.Slot.B;
import static dev.kubeos.api.agent.SlotState.FAILED_TRIAL;
import static dev.kubeos.api.agent.SlotState.VERIFIED;
import static dev.kubeos.cluster.proxy.model.Phase.VERIFYING;
import static dev.kubeos.cluster.proxy.model.ProxyOperation.ROLLBACK;
import static dev.kubeos.cluster.proxy.model.ProxyOperation.UPGRADE;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kubeos.api.agent.AgentStatus;
import dev.kubeos.api.agent.Slot;
import dev.kubeos.api.agent.SlotState;
import dev.kubeos.api.agent.SlotStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * After the reboot the node reports the target's {@code osImage} as soon as it is up, before its
 * health check committed the trial boot: the proxy goes on only when the agent's status confirms
 * the commit, one row per branch. Reboot limit 900 s, counted from the recorded {@code Verifying}.
 */
class ProxyStateMachineCommitTest {
  static final Instant NOW = Instant.parse("2026-03-02T10:00:00Z");
  static final PhaseTimeouts LIMITS =
      new PhaseTimeouts(Duration.ofSeconds(600), Duration.ofSeconds(900), Duration.ofSeconds(300));
  static final String V1 = "KubeOS 1.0.0";
  static final String V2 = "KubeOS 2.0.0";

  /**
   * An agent status: booted from {@code booted}, {@code dflt} the default entry, {@code trial} the
   * armed trial slot; the booted slot holds {@code version} in {@code state}, the other one V1.
   */
  static AgentStatus status(
      Slot booted,
      Slot dflt,
      Slot trial,
      boolean trialBoot,
      String version,
      SlotState state,
      String lastFailure) {
    Map<Slot, SlotStatus> slots = new EnumMap<>(Slot.class);
    slots.put(booted, new SlotStatus(version, null, state, NOW));
    slots.put(booted.other(), new SlotStatus("1.0.0", null, VERIFIED, NOW));
    return new AgentStatus(
        booted,
        dflt,
        trial,
        trial != null && !trialBoot ? trial : dflt,
        trialBoot,
        slots,
        lastFailure);
  }

  /** The node's health check is still deciding: slot B runs V2 as the boot-once trial. */
  static final AgentStatus TRIAL = status(B, A, B, true, V2, VERIFIED, null);

  /** The health check passed and the agent committed B. */
  static final AgentStatus COMMITTED = status(B, B, null, false, V2, VERIFIED, null);

  /** Booted B with V2, but the default entry is still A and no trial is running. */
  static final AgentStatus DEFAULT_OTHER = status(B, A, null, false, V2, VERIFIED, null);

  /** The health check failed: B recorded as a failed trial, the fallback reboot still to come. */
  static final AgentStatus HEALTH_FAILED =
      status(
          B,
          A,
          null,
          false,
          V2,
          FAILED_TRIAL,
          "trial boot of slot B (KubeOS 2.0.0) failed its health check: kubeos-e2e-fail.service");

  /** The node in {@code Verifying} of an upgrade to V2 since {@code agoSec}, reporting osImage. */
  static Observed verifying(String osImage, int agoSec, AgentAnswer agent) {
    return new Observed(
            UPGRADE,
            V2,
            null,
            VERIFYING,
            V2,
            NOW.minusSeconds(agoSec),
            osImage,
            "b1",
            "b0",
            NOW,
            LIMITS,
            null)
        .withAgent(agent);
  }

  static AgentAnswer answer(AgentStatus s) {
    return new AgentAnswer.Status(s);
  }

  static final AgentAnswer UNREACHABLE =
      new AgentAnswer.Unreachable("cannot connect to /run/os-agent/os-agent.sock [IO_ERROR]");

  static Stream<Arguments> table() {
    return Stream.of(
        // the trial is pending: wait, cordoned, asking again
        Arguments.of(verifying(V2, 10, answer(TRIAL)), Step.Poll.class),
        // committed: go on
        Arguments.of(verifying(V2, 10, answer(COMMITTED)), Step.Advance.class),
        // booted the target but the default entry is the other slot: not committed
        Arguments.of(verifying(V2, 10, answer(DEFAULT_OTHER)), Step.Poll.class),
        // the health check failed, the fallback reboot is still to come: wait for it
        Arguments.of(verifying(V2, 10, answer(HEALTH_FAILED)), Step.Poll.class),
        // the socket-activated agent is starting or restarting: ask again
        Arguments.of(verifying(V2, 10, UNREACHABLE), Step.Poll.class),
        // the trial fell back: a new bootID at the old version
        Arguments.of(verifying(V1, 10, answer(TRIAL)), Step.Fail.class),
        Arguments.of(verifying(V1, 10, null), Step.Fail.class),
        // the agent says the booted slot holds another version: nothing to confirm
        Arguments.of(
            verifying(V2, 10, answer(status(B, B, null, false, "KubeOS 3.0.0", VERIFIED, null))),
            Step.Fail.class),
        // out of time (900 s) without the commit, or without the agent
        Arguments.of(verifying(V2, 899, answer(TRIAL)), Step.Poll.class),
        Arguments.of(verifying(V2, 900, answer(TRIAL)), Step.Fail.class),
        Arguments.of(verifying(V2, 900, UNREACHABLE), Step.Fail.class),
        Arguments.of(verifying(V2, 900, answer(HEALTH_FAILED)), Step.Fail.class),
        // a commit seen at the last moment still counts
        Arguments.of(verifying(V2, 10_000, answer(COMMITTED)), Step.Advance.class),
        // upstream's agent has no status method (and no trial): osImage and bootID decide
        Arguments.of(
            verifying(V2, 10, new AgentAnswer.NoStatusMethod("Method not found")),
            Step.Advance.class));
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @MethodSource("table")
  void decides(Observed o, Class<? extends Step> expected) {
    assertThat(ProxyStateMachine.decide(o)).isInstanceOf(expected);
  }

  @Test
  void aPendingTrialKeepsTheNodeVerifyingAndSaysItWaitsForTheHealthCheck() {
    Step s = ProxyStateMachine.decide(verifying(V2, 10, answer(TRIAL)));
    assertThat(((Step.Poll) s).why())
        .contains("waiting for its health check to commit it")
        .contains("slot B (KubeOS 2.0.0) runs as a boot-once trial, not yet committed");
  }

  @Test
  void aCommittedTrialGoesOnToTheOperationsNextStep() {
    assertThat(ProxyStateMachine.decide(verifying(V2, 10, answer(COMMITTED))))
        .isEqualTo(new Step.Advance(Phase.CONFIGURING));
    Observed rollback =
        new Observed(ROLLBACK, V1, null, VERIFYING, V1, NOW, V1, "b2", "b1", NOW, LIMITS, null)
            .withAgent(answer(status(A, A, null, false, "1.0.0", VERIFIED, null)));
    assertThat(ProxyStateMachine.decide(rollback)).isEqualTo(new Step.Advance(Phase.UNCORDONING));
  }

  @Test
  void aFailedHealthCheckIsAwaitedUntilTheFallbackAndNamesTheAgentsReason() {
    Step s = ProxyStateMachine.decide(verifying(V2, 10, answer(HEALTH_FAILED)));
    assertThat(((Step.Poll) s).why())
        .contains("failed its trial")
        .contains("failed its health check: kubeos-e2e-fail.service")
        .contains("falls back to slot A at its next boot");
  }

  @Test
  void anUnreachableAgentIsAskedAgainSayingWhy() {
    Step s = ProxyStateMachine.decide(verifying(V2, 10, UNREACHABLE));
    assertThat(((Step.Poll) s).why())
        .contains("the agent cannot be reached yet")
        .contains("[IO_ERROR]");
  }

  @Test
  void noCommitWithinTheRebootTimeoutFailsTheAttemptSayingWhatTheAgentSaid() {
    Step s = ProxyStateMachine.decide(verifying(V2, 900, answer(TRIAL)));
    assertThat(((Step.Fail) s).message())
        .contains("did not confirm the commit within 900 s")
        .contains("runs as a boot-once trial")
        .contains("journalctl -u kubeos-health");
  }

  @Test
  void aTrialThatFellBackFailsAsBefore() {
    Step s = ProxyStateMachine.decide(verifying(V1, 10, null));
    assertThat(((Step.Fail) s).message())
        .contains("runs 'KubeOS 1.0.0', expected 'KubeOS 2.0.0'")
        .contains("fell back");
  }

  @Test
  void aFallbackTheAgentReportsBeforeTheKubeletFailsAtOnceNamingTheAgentsReason() {
    // the Node still shows the trial boot at the target; the agent is up again on slot A
    AgentStatus fellBack =
        new AgentStatus(
            A,
            A,
            null,
            A,
            false,
            Map.of(
                A, new SlotStatus("1.0.0", null, VERIFIED, NOW),
                B, new SlotStatus(V2, null, FAILED_TRIAL, NOW)),
            "trial boot of slot B (KubeOS 2.0.0) failed its health check: kubeos-e2e-fail.service");
    Step s = ProxyStateMachine.decide(verifying(V2, 10, answer(fellBack)));
    assertThat(((Step.Fail) s).message())
        .contains("the node reports 'KubeOS 2.0.0' but the agent reports that the booted slot A")
        .contains("holds '1.0.0', not 'KubeOS 2.0.0'")
        .contains(
            "(its last failure: trial boot of slot B (KubeOS 2.0.0) failed its health check:"
                + " kubeos-e2e-fail.service)");
    Step noReason =
        ProxyStateMachine.decide(
            verifying(V2, 10, answer(status(A, A, null, false, "1.0.0", VERIFIED, null))));
    assertThat(((Step.Fail) noReason).message()).doesNotContain("last failure");
  }

  /**
   * Whatever the agent answers, an upgrade leaves Verifying forwards only on a confirmed commit.
   */
  @Test
  void onlyAConfirmedCommitLeadsPastVerifying() {
    List<AgentAnswer> notCommitted =
        List.of(
            answer(TRIAL),
            answer(DEFAULT_OTHER),
            answer(HEALTH_FAILED),
            answer(status(B, B, A, false, V2, VERIFIED, null)), // another trial armed
            answer(status(B, B, null, true, V2, VERIFIED, null)),
            answer(status(B, B, null, false, V2, FAILED_TRIAL, null)),
            UNREACHABLE);
    for (AgentAnswer a : notCommitted) {
      for (int ago : new int[] {0, 1, 899, 900, 10_000}) {
        assertThat(ProxyStateMachine.decide(verifying(V2, ago, a)))
            .as("%s after %d s", a, ago)
            .isNotInstanceOf(Step.Advance.class);
      }
    }
  }

  @Test
  void theAgentIsAskedOnlyInVerifyingOnceTheNodeReportsTheTarget() {
    assertThat(ProxyStateMachine.needsAgentStatus(verifying(V2, 0, null))).isTrue();
    assertThat(ProxyStateMachine.needsAgentStatus(verifying(V1, 0, null)))
        .as("fell back: the bootID decides, no commit to wait for")
        .isFalse();
    for (Phase p : Phase.values()) {
      if (p == VERIFYING) {
        continue;
      }
      Observed o = new Observed(UPGRADE, V2, null, p, V2, NOW, V2, "b1", "b0", NOW, LIMITS, null);
      assertThat(ProxyStateMachine.needsAgentStatus(o)).as(p.wireName()).isFalse();
    }
    Observed idle =
        new Observed(null, null, null, Phase.IDLE, null, null, V2, "b1", null, NOW, LIMITS, null);
    assertThat(ProxyStateMachine.needsAgentStatus(idle)).as("an idle proxy never asks").isFalse();
    Observed otherTarget =
        new Observed(
            UPGRADE, "KubeOS 3.0.0", null, VERIFYING, V2, NOW, V2, "b1", "b0", NOW, LIMITS, null);
    assertThat(ProxyStateMachine.needsAgentStatus(otherTarget))
        .as("the target changed: the attempt is aborted, not verified")
        .isFalse();
  }

  static Stream<Arguments> commitChecks() {
    return Stream.of(
        Arguments.of(TRIAL, CommitCheck.Verdict.NOT_COMMITTED),
        Arguments.of(COMMITTED, CommitCheck.Verdict.COMMITTED),
        Arguments.of(DEFAULT_OTHER, CommitCheck.Verdict.NOT_COMMITTED),
        Arguments.of(HEALTH_FAILED, CommitCheck.Verdict.NOT_COMMITTED),
        Arguments.of(status(B, B, A, false, V2, VERIFIED, null), CommitCheck.Verdict.NOT_COMMITTED),
        Arguments.of(
            status(B, B, null, false, "KubeOS 3.0.0", VERIFIED, null),
            CommitCheck.Verdict.OTHER_VERSION),
        Arguments.of(
            status(B, B, null, false, null, VERIFIED, null), CommitCheck.Verdict.OTHER_VERSION),
        // the image's own slot is recorded under the bare version its builder was given
        Arguments.of(
            status(B, B, null, false, "2.0.0", VERIFIED, null), CommitCheck.Verdict.COMMITTED),
        Arguments.of(
            new AgentStatus(null, A, null, A, false, Map.of(), null),
            CommitCheck.Verdict.OTHER_VERSION));
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @MethodSource("commitChecks")
  void commitCheck(AgentStatus s, CommitCheck.Verdict expected) {
    assertThat(CommitCheck.of(s, V2).verdict()).isEqualTo(expected);
  }

  @Test
  void aSlotHoldsTheTargetByItsVersionOrThePrettyNameTheBuilderWritesForIt() {
    assertThat(CommitCheck.holds("KubeOS 2.0.0", V2)).isTrue();
    assertThat(CommitCheck.holds("2.0.0", V2)).isTrue();
    assertThat(CommitCheck.holds("2.0.1", V2)).isFalse();
    assertThat(CommitCheck.holds("KubeOS 2.0.0", "2.0.0")).isFalse();
    assertThat(CommitCheck.holds(null, V2)).isFalse();
  }
}
