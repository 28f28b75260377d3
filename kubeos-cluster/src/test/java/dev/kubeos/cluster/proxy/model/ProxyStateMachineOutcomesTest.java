package dev.kubeos.cluster.proxy.model;

import static dev.kubeos.cluster.proxy.model.Phase.CONFIGURING;
import static dev.kubeos.cluster.proxy.model.Phase.CORDONING;
import static dev.kubeos.cluster.proxy.model.Phase.DONE;
import static dev.kubeos.cluster.proxy.model.Phase.DRAINING;
import static dev.kubeos.cluster.proxy.model.Phase.REBOOTING;
import static dev.kubeos.cluster.proxy.model.Phase.STAGING;
import static dev.kubeos.cluster.proxy.model.Phase.UNCORDONING;
import static dev.kubeos.cluster.proxy.model.Phase.VERIFYING;
import static dev.kubeos.cluster.proxy.model.ProxyOperation.CONFIG;
import static dev.kubeos.cluster.proxy.model.ProxyOperation.ROLLBACK;
import static dev.kubeos.cluster.proxy.model.ProxyOperation.UPGRADE;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kubeos.api.agent.Action;
import java.time.Duration;
import java.time.Instant;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The deadlines each phase carries and the decisions after an action (done, retry, fail, wait), one
 * row per rule. The limits differ from each other so that a row can only pass with the right one:
 * drain 600 s, reboot 900 s, agent retries 300 s.
 */
class ProxyStateMachineOutcomesTest {
  static final Instant NOW = Instant.parse("2026-03-02T10:00:00Z");
  static final PhaseTimeouts LIMITS =
      new PhaseTimeouts(Duration.ofSeconds(600), Duration.ofSeconds(900), Duration.ofSeconds(300));

  static final Outcome DONE_OK = new Outcome.Done();
  static final Outcome BUSY = new Outcome.AgentError(Action.RETRY, "busy [BUSY]", true);
  static final Outcome REFUSED =
      new Outcome.AgentError(Action.GIVE_UP, "checksum mismatch [CHECKSUM_MISMATCH]", true);

  /** A call that failed on the way: the agent's answer never arrived. */
  static final Outcome NO_ANSWER =
      new Outcome.AgentError(
          Action.RETRY, "agent closed the connection without answering upgrade [IO_ERROR]", false);

  static final DrainAnswer DRAINED = new DrainAnswer(true, "drained 2 pods");

  /**
   * The node in {@code phase} of {@code op}, recorded {@code agoSec} seconds before NOW; in {@link
   * Phase#DRAINING} the operator answered "drained".
   */
  static Observed in(ProxyOperation op, Phase phase, int agoSec) {
    return in(op, phase, agoSec, phase == DRAINING ? DRAINED : null);
  }

  static Observed in(ProxyOperation op, Phase phase, int agoSec, DrainAnswer drain) {
    String target = op == CONFIG ? "c2" : "v2";
    return new Observed(
        op,
        target,
        null,
        phase,
        target,
        NOW.minusSeconds(agoSec),
        "v1",
        "b0",
        phase.afterRebootRequest() ? "b0" : null,
        NOW,
        LIMITS,
        drain);
  }

  static Instant at(int agoSec, int limitSec) {
    return NOW.minusSeconds(agoSec).plusSeconds(limitSec);
  }

  static Stream<Arguments> deadlines() {
    return Stream.of(
        Arguments.of(in(UPGRADE, STAGING, 10), new Step.Act(UPGRADE, STAGING, at(10, 300))),
        Arguments.of(in(UPGRADE, CORDONING, 10), new Step.Act(UPGRADE, CORDONING, null)),
        Arguments.of(in(UPGRADE, DRAINING, 10), new Step.Act(UPGRADE, DRAINING, at(10, 600))),
        // the operator's "drained" leads to the reboot, even when read after the deadline
        Arguments.of(in(UPGRADE, DRAINING, 700), new Step.Act(UPGRADE, DRAINING, at(700, 600))),
        Arguments.of(in(UPGRADE, CONFIGURING, 10), new Step.Act(UPGRADE, CONFIGURING, at(10, 300))),
        Arguments.of(in(CONFIG, CONFIGURING, 10), new Step.Act(CONFIG, CONFIGURING, at(10, 300))),
        Arguments.of(in(UPGRADE, UNCORDONING, 10), new Step.Act(UPGRADE, UNCORDONING, null)),
        Arguments.of(in(ROLLBACK, DRAINING, 0), new Step.Act(ROLLBACK, DRAINING, at(0, 600))));
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @MethodSource("deadlines")
  void eachActionCarriesItsPhasesDeadline(Observed o, Step expected) {
    assertThat(ProxyStateMachine.decide(o)).isEqualTo(expected);
  }

  static Stream<Arguments> rebootWaits() {
    return Stream.of(
        Arguments.of(in(UPGRADE, REBOOTING, 0), Step.Wait.class),
        Arguments.of(in(UPGRADE, REBOOTING, 899), Step.Wait.class),
        Arguments.of(in(UPGRADE, REBOOTING, 900), Step.Fail.class),
        Arguments.of(in(ROLLBACK, REBOOTING, 5000), Step.Fail.class));
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @MethodSource("rebootWaits")
  void aRebootIsWaitedForUntilTheRebootTimeout(Observed o, Class<? extends Step> expected) {
    assertThat(ProxyStateMachine.decide(o)).isInstanceOf(expected);
  }

  static Stream<Arguments> afterActions() {
    return Stream.of(
        // done: the operation's next phase, in time or not (the action finished)
        row(UPGRADE, STAGING, 10, 10, DONE_OK, new Step.Advance(CORDONING)),
        row(UPGRADE, STAGING, 10, 400, DONE_OK, new Step.Advance(CORDONING)),
        row(UPGRADE, CORDONING, 10, 10, DONE_OK, new Step.Advance(DRAINING)),
        row(UPGRADE, DRAINING, 10, 10, DONE_OK, new Step.Advance(REBOOTING)),
        row(UPGRADE, CONFIGURING, 10, 10, DONE_OK, new Step.Advance(UNCORDONING)),
        row(CONFIG, CONFIGURING, 10, 10, DONE_OK, new Step.Advance(DONE)),
        row(UPGRADE, UNCORDONING, 10, 10, DONE_OK, new Step.Advance(DONE)),
        row(ROLLBACK, CORDONING, 10, 10, DONE_OK, new Step.Advance(DRAINING)),
        row(ROLLBACK, UNCORDONING, 10, 10, DONE_OK, new Step.Advance(DONE)),
        // transient agent error before the phase's deadline: retry, the phase stays
        row(UPGRADE, STAGING, 10, 10, BUSY, new Step.Retry("agent: busy [BUSY]; retrying Staging")),
        row(UPGRADE, STAGING, 0, 299, BUSY, new Step.Retry("agent: busy [BUSY]; retrying Staging")),
        row(
            CONFIG,
            CONFIGURING,
            10,
            10,
            BUSY,
            new Step.Retry("agent: busy [BUSY]; retrying Configuring")),
        // ... at or past it: fail (the retry window is the agent's, 300 s, not the reboot's)
        row(UPGRADE, STAGING, 10, 300, BUSY, new Step.Fail("Staging failed: agent: busy [BUSY]")),
        row(UPGRADE, STAGING, 0, 600, BUSY, new Step.Fail("Staging failed: agent: busy [BUSY]")),
        row(
            CONFIG,
            CONFIGURING,
            300,
            300,
            BUSY,
            new Step.Fail("Configuring failed: agent: busy [BUSY]")),
        // a phase without a deadline has no retry window
        row(UPGRADE, CORDONING, 0, 0, BUSY, new Step.Fail("Cordoning failed: agent: busy [BUSY]")),
        // an error the agent means: fail at once
        row(
            UPGRADE,
            STAGING,
            0,
            0,
            REFUSED,
            new Step.Fail("Staging failed: agent: checksum mismatch [CHECKSUM_MISMATCH]")),
        row(
            UPGRADE,
            CONFIGURING,
            0,
            0,
            REFUSED,
            new Step.Fail("Configuring failed: agent: checksum mismatch [CHECKSUM_MISMATCH]")));
  }

  /**
   * The action of {@code phase} observed {@code agoSec} after the phase began, ended {@code endSec}
   * after it began with {@code outcome}.
   */
  static Arguments row(
      ProxyOperation op, Phase phase, int agoSec, int endSec, Outcome outcome, Step expected) {
    return Arguments.of(op, phase, agoSec, endSec, outcome, expected);
  }

  @ParameterizedTest(name = "{0} {1} seen at {2} s, ended at {3} s: {4} -> {5}")
  @MethodSource("afterActions")
  void afterAnActionTheMachineDecides(
      ProxyOperation op, Phase phase, int agoSec, int endSec, Outcome outcome, Step expected) {
    Observed o = in(op, phase, agoSec);
    Step.Act act = (Step.Act) ProxyStateMachine.decide(o);
    Instant end = NOW.minusSeconds(agoSec).plusSeconds(endSec);
    assertThat(ProxyStateMachine.afterAction(o, act, outcome, end)).isEqualTo(expected);
  }

  static Stream<Arguments> rebootRequests() {
    return Stream.of(
        Arguments.of(UPGRADE, DONE_OK, new Step.Wait("reboot into v2 requested")),
        // the connection may have dropped because the node went down: never ask twice
        Arguments.of(
            UPGRADE,
            NO_ANSWER,
            new Step.Wait(
                "reboot request: agent closed the connection without answering upgrade"
                    + " [IO_ERROR]; waiting for the node")),
        // the agent answered: it did not act, so no reboot is coming
        Arguments.of(
            UPGRADE,
            BUSY,
            new Step.Fail("the agent could not upgrade and will not reboot: busy [BUSY]")),
        Arguments.of(
            ROLLBACK,
            new Outcome.AgentError(Action.RETRY, "merge failed [IO_ERROR]", true),
            new Step.Fail(
                "the agent could not rollback and will not reboot: merge failed [IO_ERROR]")),
        Arguments.of(
            UPGRADE,
            REFUSED,
            new Step.Fail("the agent refused to upgrade: checksum mismatch [CHECKSUM_MISMATCH]")),
        Arguments.of(
            ROLLBACK,
            new Outcome.AgentError(
                Action.ROLL_BACK, "no fallback slot [PRECONDITION_FAILED]", true),
            new Step.Fail(
                "the agent refused to rollback: no fallback slot [PRECONDITION_FAILED]")));
  }

  @ParameterizedTest(name = "{0}: {1} -> {2}")
  @MethodSource("rebootRequests")
  void theRebootRequestIsSentOnceAndNeverRetried(
      ProxyOperation op, Outcome outcome, Step expected) {
    assertThat(ProxyStateMachine.afterRebootRequest(in(op, DRAINING, 10), outcome))
        .isEqualTo(expected);
  }

  static Stream<Arguments> drains() {
    DrainAnswer blocked =
        new DrainAnswer(false, "drain did not finish by the drain timeout (600 s): a/web-1");
    Step.Fail noAnswer =
        new Step.Fail(
            "kubeos-operator reported no drain result within 660 s of the cordon (the drain"
                + " timeout plus 60 s): the node was not drained and is not rebooted; check that"
                + " kubeos-operator runs",
            Step.Failure.DRAIN);
    return Stream.of(
        // no answer yet: wait for the operator, also a little past the drain timeout
        Arguments.of(
            in(UPGRADE, DRAINING, 10, null),
            new Step.Wait(
                "cordoned; waiting for kubeos-operator to drain the node (drain timeout 600 s)")),
        Arguments.of(in(ROLLBACK, DRAINING, 659, null), Step.Wait.class),
        // no answer by the drain timeout plus the grace: fail as a drain failure, never reboot
        Arguments.of(in(UPGRADE, DRAINING, 660, null), noAnswer),
        Arguments.of(in(ROLLBACK, DRAINING, 5000, null), noAnswer),
        // the operator's "failed": fail at once with its message, in time or not
        Arguments.of(
            in(UPGRADE, DRAINING, 10, blocked),
            new Step.Fail(blocked.message(), Step.Failure.DRAIN)),
        Arguments.of(
            in(ROLLBACK, DRAINING, 700, blocked),
            new Step.Fail(blocked.message(), Step.Failure.DRAIN)),
        // its "drained": the action, whose outcome is the reboot request
        Arguments.of(
            in(UPGRADE, DRAINING, 10, DRAINED), new Step.Act(UPGRADE, DRAINING, at(10, 600))));
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @MethodSource("drains")
  void theProxyRebootsOnlyOnTheOperatorsDrained(Observed o, Object expected) {
    Step s = ProxyStateMachine.decide(o);
    if (expected instanceof Class<?> c) {
      assertThat(s).isInstanceOf(c);
    } else {
      assertThat(s).isEqualTo(expected);
    }
  }

  @Test
  void phasesThatWaitOrRetryCarryALimitAndTheOthersNone() {
    assertThat(STAGING.timeout(LIMITS)).isEqualTo(LIMITS.agentRetry());
    assertThat(DRAINING.timeout(LIMITS)).isEqualTo(LIMITS.drain());
    assertThat(REBOOTING.timeout(LIMITS)).isEqualTo(LIMITS.reboot());
    assertThat(CONFIGURING.timeout(LIMITS)).isEqualTo(LIMITS.agentRetry());
    // the wait for the agent's confirmation of the commit after the node came back
    assertThat(VERIFYING.timeout(LIMITS)).isEqualTo(LIMITS.reboot());
    for (Phase p : new Phase[] {Phase.IDLE, CORDONING, UNCORDONING, DONE, Phase.FAILED}) {
      assertThat(p.timeout(LIMITS)).as(p.wireName()).isNull();
    }
  }

  @Test
  void aNeverRecordedPhaseTimeCountsFromNow() {
    Observed o =
        new Observed(
            UPGRADE, "v2", null, DRAINING, "v2", null, "v1", null, null, NOW, LIMITS, null);
    assertThat(o.since()).isEqualTo(NOW);
    assertThat(o.deadline()).isEqualTo(NOW.plusSeconds(600));
  }
}
