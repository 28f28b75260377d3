package dev.kubeos.cluster.proxy.model;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * The node proxy's decisions, pure: from what it observes to the next {@link Step}. The order of
 * phases per operation is {@link ProxyOperation#steps()}; this class adds the rules for starting,
 * finishing, aborting, and the two observations that need no action: a requested reboot finished
 * ({@link Phase#REBOOTING}) and the node runs the target ({@link Phase#VERIFYING}).
 *
 * <p>While {@link Phase#REBOOTING}, the node's {@code bootID} tells a reboot that happened from one
 * that did not: a new bootID with the old version means the trial boot fell back (fail at once);
 * the same bootID means the reboot is still to come (wait, up to the reboot timeout).
 *
 * <p>A node is at an OS version when {@code status.nodeInfo.osImage} equals {@code osversion}, the
 * same test the planner applies (so what the proxy reports done, the planner counts at target).
 * That is not enough to go on after a reboot: a kubelet reports the new {@code osImage} as soon as
 * the node is up, while it still runs the uncommitted boot-once trial that its health check commits
 * or falls back from. In {@link Phase#VERIFYING} the proxy therefore asks the agent ({@link
 * #needsAgentStatus}, {@link Observed#agent()}) and goes on only when the booted slot holds the
 * target and is committed ({@link CommitCheck}); until then it polls ({@link Step.Poll}), the node
 * cordoned, at most the reboot timeout from the node's return. An agent that cannot be reached is
 * asked again; a trial that falls back shows as a new bootID at the old version and fails the
 * attempt, as in {@link Phase#REBOOTING}.
 *
 * <p>After an action, {@link #afterAction} decides from its {@link Outcome} (brupop's {@code
 * on_success()} plus the error paths): done advances to the operation's next phase; a transient
 * agent error is retried while the phase has time ({@link Phase#timeout}); anything else fails the
 * attempt. The reboot request, sent once on entering {@link Phase#REBOOTING}, is never retried:
 * {@link #afterRebootRequest}.
 *
 * <p>The proxy has no pod rights: in {@link Phase#DRAINING} the operator evicts the node's pods and
 * answers ({@link Observed#drain()}); the proxy reboots only on its "drained", fails the attempt on
 * its "failed", and fails it itself when no answer came by the drain timeout plus {@link
 * #DRAIN_REPORT_GRACE} (an operator that is down never gets an undrained node rebooted).
 *
 * <p>The proxy writes no spec: when the attempt is over ({@link Phase#DONE}, {@link Phase#FAILED})
 * it waits for the operator to hand the node back ({@code spec.nodestatus: idle}).
 */
public final class ProxyStateMachine {
  /**
   * How long past the drain timeout the proxy waits for the operator's drain answer before it fails
   * the attempt on its own. The operator answers at the drain timeout; this only covers an operator
   * that is down or lagging.
   */
  public static final Duration DRAIN_REPORT_GRACE = Duration.ofMinutes(1);

  private ProxyStateMachine() {}

  /** The next step for the node. */
  public static Step decide(Observed o) {
    Phase phase = o.phase();
    boolean sameTarget = o.desiredTarget() != null && o.desiredTarget().equals(o.statusTarget());
    if (o.op() == null) {
      if (phase.inFlight()) {
        return new Step.Abort(
            "spec.nodestatus became idle during " + phase.wireName() + "; stopped the attempt");
      }
      return new Step.Nothing("no operation assigned (spec.nodestatus idle)");
    }
    if (o.desiredTarget() == null) {
      return new Step.Wait(o.problem() == null ? "target unknown" : o.problem());
    }
    if (!sameTarget) {
      if (phase.inFlight()) {
        return new Step.Abort(
            "the target changed from "
                + o.statusTarget()
                + " to "
                + o.desiredTarget()
                + " during "
                + phase.wireName()
                + "; stopped the old attempt");
      }
      return new Step.Start(o.op(), o.desiredTarget());
    }
    if (phase.terminal()) {
      return new Step.Wait(
          "the attempt at "
              + o.desiredTarget()
              + " is over ("
              + phase.wireName()
              + "); waiting for kubeos-operator to hand the node back (spec.nodestatus: idle)");
    }
    if (phase == Phase.IDLE) {
      return new Step.Start(o.op(), o.desiredTarget());
    }
    if (!o.op().steps().contains(phase)) {
      return new Step.Abort(
          "phase "
              + phase.wireName()
              + " is not a step of "
              + o.op().nodestatus()
              + "; restarting");
    }
    return switch (phase) {
      case DRAINING -> draining(o);
      case REBOOTING -> rebooting(o);
      case VERIFYING -> verifying(o);
      default -> new Step.Act(o.op(), phase, o.deadline());
    };
  }

  /**
   * The step for a node without an OSInstance ({@code where}: its namespace/name): register it when
   * the Node exists, as upstream's proxy does; otherwise wait for the Node (a proxy started with a
   * wrong {@code --node} registers nothing).
   */
  public static Step unregistered(boolean nodeExists, String where) {
    if (!nodeExists) {
      return new Step.Wait(
          "no OSInstance "
              + where
              + " and no Node of that name: not registering it (check --node / NODE_NAME)");
    }
    return new Step.Register(where);
  }

  /**
   * The step after the action of {@code act} ended with {@code outcome}.
   *
   * @param o what the pass observed before the action
   * @param now when the action ended (it may have taken long: an agent call, a drain)
   * @return {@link Step.Advance} to the operation's next phase when done; {@link Step.Retry} for a
   *     transient agent error before the phase's deadline; {@link Step.Fail} otherwise
   */
  public static Step afterAction(Observed o, Step.Act act, Outcome outcome, Instant now) {
    Phase phase = act.phase();
    if (outcome instanceof Outcome.Done) {
      return new Step.Advance(act.op().after(phase));
    }
    Outcome.AgentError e = (Outcome.AgentError) outcome;
    String message = "agent: " + e.message();
    if (e.transientError() && act.deadline() != null && now.isBefore(act.deadline())) {
      return new Step.Retry(message + "; retrying " + phase.wireName());
    }
    return new Step.Fail(phase.wireName() + " failed: " + message);
  }

  /**
   * The step after the reboot request that entered {@link Phase#REBOOTING}. It is never repeated: a
   * call that failed on the way (no answer) may mean the connection dropped because the node is
   * already going down, so the proxy waits and lets the reboot timeout decide; an error the agent
   * answered itself fails the attempt at once, transient or not, since the agent did not act.
   */
  public static Step afterRebootRequest(Observed o, Outcome outcome) {
    if (outcome instanceof Outcome.AgentError e) {
      if (!e.transientError()) {
        return new Step.Fail("the agent refused to " + o.op().nodestatus() + ": " + e.message());
      }
      if (e.answered()) {
        // the agent ran the request and says it failed: no reboot is coming, waiting for one
        // would only hold the node cordoned until the reboot timeout
        return new Step.Fail(
            "the agent could not " + o.op().nodestatus() + " and will not reboot: " + e.message());
      }
      // the connection may have dropped because the node went down: never ask twice
      return new Step.Wait("reboot request: " + e.message() + "; waiting for the node");
    }
    if (outcome instanceof Outcome.Done) {
      return new Step.Wait("reboot into " + o.desiredTarget() + " requested");
    }
    throw new IllegalArgumentException(outcome + " is not an outcome of a reboot request");
  }

  /**
   * {@link Phase#DRAINING}: the operator drains; its "drained" lets the action (the reboot request)
   * run, its "failed" fails the attempt with its message; no answer past the drain timeout plus
   * {@link #DRAIN_REPORT_GRACE} fails it too. An undrained node is never rebooted.
   */
  private static Step draining(Observed o) {
    DrainAnswer d = o.drain();
    if (d != null && d.drained()) {
      return new Step.Act(o.op(), Phase.DRAINING, o.deadline());
    }
    if (d != null) {
      return new Step.Fail(d.message(), Step.Failure.DRAIN);
    }
    Instant giveUp = o.deadline().plus(DRAIN_REPORT_GRACE);
    if (!o.now().isBefore(giveUp)) {
      return new Step.Fail(
          "kubeos-operator reported no drain result within "
              + seconds(Duration.between(o.since(), giveUp))
              + " of the cordon (the drain timeout plus "
              + seconds(DRAIN_REPORT_GRACE)
              + "): the node was not drained and is not rebooted; check that kubeos-operator runs",
          Step.Failure.DRAIN);
    }
    return new Step.Wait(
        "cordoned; waiting for kubeos-operator to drain the node (drain timeout "
            + seconds(o.timeouts().drain())
            + ")");
  }

  private static Step rebooting(Observed o) {
    if (o.desiredTarget().equals(o.osImage())) {
      return new Step.Advance(Phase.VERIFYING);
    }
    if (rebooted(o)) {
      return new Step.Fail(
          "the node rebooted (bootID "
              + o.bootIdAtReboot()
              + " -> "
              + o.bootId()
              + ") but came back at '"
              + o.osImage()
              + "', expected '"
              + o.desiredTarget()
              + "': the trial boot of the new version failed and the node fell back to the old"
              + " one (see the agent's log on the node: kubeos agent status)");
    }
    if (!o.now().isBefore(o.deadline())) {
      return new Step.Fail(notRebooted(o));
    }
    Duration waited = Duration.between(o.since(), o.now());
    return new Step.Wait(
        "rebooting into " + o.desiredTarget() + " (" + waited.toSeconds() + " s so far)");
  }

  /** Whether the node booted since the reboot request: both bootIDs known and different. */
  public static boolean rebooted(Observed o) {
    return o.bootIdAtReboot() != null
        && o.bootId() != null
        && !o.bootIdAtReboot().equals(o.bootId());
  }

  private static String notRebooted(Observed o) {
    String within = " within " + seconds(o.timeouts().reboot()) + " of the reboot request";
    if (o.bootIdAtReboot() != null && o.bootId() != null) {
      return "the node did not reboot"
          + within
          + " (bootID still "
          + o.bootId()
          + ", it runs '"
          + o.osImage()
          + "'): the agent accepted the request but the reboot did not happen; check the node"
          + " (kubeos agent status, journalctl -u kubeos-agent)";
    }
    return "the node did not come back at "
        + o.desiredTarget()
        + within
        + "; it runs '"
        + o.osImage()
        + "': the reboot did not happen or the trial boot failed and the node fell back"
        + " (no bootID to tell which; see the agent's log on the node: kubeos agent status)";
  }

  private static String seconds(Duration d) {
    return d.toMillis() % 1000 == 0
        ? d.toSeconds() + " s"
        : String.format(java.util.Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
  }

  /**
   * Whether {@link #decide} needs the agent's {@code status} for {@code o} ({@link
   * Observed#withAgent}): in {@link Phase#VERIFYING} of the assigned target, once the node reports
   * that version. Never otherwise, so an idle or waiting proxy does not call the agent.
   */
  public static boolean needsAgentStatus(Observed o) {
    return o.op() != null
        && o.phase() == Phase.VERIFYING
        && o.op().steps().contains(Phase.VERIFYING)
        && o.desiredTarget() != null
        && o.desiredTarget().equals(o.statusTarget())
        && o.desiredTarget().equals(o.osImage());
  }

  /**
   * {@link Phase#VERIFYING}: the node came back at the target; go on only when the agent confirms
   * the commit ({@link CommitCheck}), poll while it does not (yet), fail when the node fell back,
   * the agent reports another version, or the phase ran out of time.
   */
  private static Step verifying(Observed o) {
    if (!Objects.equals(o.desiredTarget(), o.osImage())) {
      return new Step.Fail(
          "after the reboot the node runs '"
              + o.osImage()
              + "', expected '"
              + o.desiredTarget()
              + "': the trial boot failed and the node fell back to the old version");
    }
    AgentAnswer a = o.agent();
    String waiting;
    if (a instanceof AgentAnswer.NoStatusMethod) {
      // upstream's agent: no boot-once trial, no commit; osImage and bootID are all there is
      return new Step.Advance(o.op().after(Phase.VERIFYING));
    } else if (a instanceof AgentAnswer.Status st) {
      CommitCheck c = CommitCheck.of(st.status(), o.desiredTarget());
      switch (c.verdict()) {
        case COMMITTED:
          return new Step.Advance(o.op().after(Phase.VERIFYING));
        case OTHER_VERSION:
          return new Step.Fail(
              "the node reports '"
                  + o.osImage()
                  + "' but "
                  + c.detail()
                  + ": the proxy cannot confirm the "
                  + o.op().nodestatus()
                  + " (see kubeos agent status on the node)");
        default:
          waiting = c.detail();
      }
    } else {
      waiting =
          "the agent cannot be reached yet ("
              + (a instanceof AgentAnswer.Unreachable u ? u.message() : "not asked")
              + ")";
    }
    if (!o.now().isBefore(o.deadline())) {
      return new Step.Fail(
          "the node came back at "
              + o.desiredTarget()
              + " but its agent did not confirm the commit within "
              + seconds(o.timeouts().reboot())
              + ": "
              + waiting
              + "; the node's health check did not commit the new version (kubeos agent status,"
              + " journalctl -u kubeos-health on the node)");
    }
    return new Step.Poll(
        "the node came back at "
            + o.desiredTarget()
            + "; waiting for its health check to commit it: "
            + waiting);
  }
}
