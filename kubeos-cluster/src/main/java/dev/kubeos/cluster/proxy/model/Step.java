package dev.kubeos.cluster.proxy.model;

/** What the proxy does next, as decided by {@link ProxyStateMachine#decide}. */
public sealed interface Step {
  /** Nothing to do (no assignment, or the attempt is over and released). */
  record Nothing(String why) implements Step {}

  /** Not yet: look again later (the node is rebooting, the OS resource is missing, ...). */
  record Wait(String why) implements Step {}

  /** Begin an attempt: record {@code op.first()} with {@code target} and a start time. */
  record Start(ProxyOperation op, String target) implements Step {}

  /** Run the action of the recorded phase; on success record {@code op.after(phase)}. */
  record Act(ProxyOperation op, Phase phase) implements Step {}

  /** The recorded phase is complete without an action (the node came back): record {@code to}. */
  record Advance(Phase to) implements Step {}

  /** The attempt failed: release the cordon if the proxy set it, record {@code Failed}. */
  record Fail(String message) implements Step {}

  /** The attempt is over: set {@code spec.nodestatus} back to {@code idle}, as upstream. */
  record Release() implements Step {}

  /** The operator withdrew or changed the assignment mid-way: release the cordon, record Idle. */
  record Abort(String why) implements Step {}
}
