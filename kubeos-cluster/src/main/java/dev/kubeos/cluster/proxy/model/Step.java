package dev.kubeos.cluster.proxy.model;

import java.time.Instant;

/**
 * What the proxy does next, as decided by {@link ProxyStateMachine#decide} (from what it observes)
 * and {@link ProxyStateMachine#afterAction} (from how an action ended).
 */
public sealed interface Step {
  /** Nothing to do (no assignment, or the attempt is over and the operator released the node). */
  record Nothing(String why) implements Step {}

  /**
   * Not yet: look again when the node or OSInstance changes (the node is rebooting, the operator is
   * draining it or has still to hand it back, ...).
   */
  record Wait(String why) implements Step {}

  /**
   * Not yet, and no change in the API server will say when: the node runs the target but its agent
   * has not confirmed the commit (the health check still runs, or the agent cannot be reached).
   * Note {@code why} in the status message and ask again after {@code ProxyConfig#commitPoll} (or
   * sooner, when the Node or the OSInstance changes). Only {@link Phase#VERIFYING} polls: an idle
   * proxy never does.
   */
  record Poll(String why) implements Step {}

  /**
   * The action failed transiently and its phase still has time: keep the phase, note {@code why} in
   * the status message, and try again after the poll interval.
   */
  record Retry(String why) implements Step {}

  /**
   * The node has no OSInstance: create it, named after the node, {@code nodestatus: idle}, in the
   * proxy's namespace (as upstream's proxy registers its node).
   */
  record Register(String where) implements Step {}

  /** Begin an attempt: record {@code op.first()} with {@code target} and a start time. */
  record Start(ProxyOperation op, String target) implements Step {}

  /**
   * Run the action of the recorded phase; on success record {@code op.after(phase)}.
   *
   * @param deadline when the phase runs out of time ({@link Phase#timeout}): the drain's deadline;
   *     null for a phase without a limit
   */
  record Act(ProxyOperation op, Phase phase, Instant deadline) implements Step {}

  /** The recorded phase is complete: record {@code to}. */
  record Advance(Phase to) implements Step {}

  /** The attempt failed: release the cordon if the proxy set it, record {@code Failed}. */
  record Fail(String message, Failure kind) implements Step {
    /** A failure of the attempt as a whole ({@link Failure#ATTEMPT}). */
    public Fail(String message) {
      this(message, Failure.ATTEMPT);
    }
  }

  /** The operator withdrew or changed the assignment mid-way: release the cordon, record Idle. */
  record Abort(String why) implements Step {}

  /** What failed, for the Event's reason. */
  enum Failure {
    /** The attempt: staging, the reboot, the verification (and commit), configuring. */
    ATTEMPT,
    /**
     * The drain, as the operator reported it (pods still on the node at the deadline, or pods that
     * need evictpodforce), or no report by the drain timeout plus {@link
     * ProxyStateMachine#DRAIN_REPORT_GRACE}.
     */
    DRAIN
  }
}
