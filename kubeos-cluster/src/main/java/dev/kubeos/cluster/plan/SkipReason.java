package dev.kubeos.cluster.plan;

/** Why the planner does not start a node now. */
public enum SkipReason {
  /** The node does not match {@code spec.nodeselector}. */
  OUTSIDE_SELECTOR,
  /** Control-plane node and {@code spec.controlplane} is not set. */
  CONTROL_PLANE_EXCLUDED,
  /** Already runs the target version or configuration. */
  AT_TARGET,
  /**
   * Its proxy reported the target done, but the Node does not show it yet (the operator's Node
   * cache lags its OSInstance cache, or the kubelet has not reported): starting it again would
   * upgrade a node twice.
   */
  AWAITING_NODE_REPORT,
  /** Its attempt at the current target failed; charged to the failure budget. */
  FAILED,
  /** The node is NotReady. */
  NOT_READY,
  /** Cordoned by someone else. */
  CORDONED,
  /** No OSInstance yet: the node's proxy has not registered. */
  NO_OSINSTANCE,
  /** The spec is invalid; see the Halted condition. */
  INVALID_SPEC,
  /** The rollout is halted (failure budget, failed canary). */
  HALTED,
  /** {@code spec.pause} is set. */
  PAUSED,
  /** Now is outside {@code spec.timewindow}. */
  OUTSIDE_TIME_WINDOW,
  /** {@code spec.timeinterval} since the last start has not passed. */
  TIME_INTERVAL,
  /** Waiting for the canary nodes and their soak period. */
  CANARY,
  /** {@code maxunavailable} (or serial mode) leaves no room. */
  MAX_UNAVAILABLE,
  /** Another control-plane node is unavailable or already being worked on. */
  CONTROL_PLANE_BUSY,
  /** The pods it would evict do not fit on the remaining schedulable nodes. */
  INSUFFICIENT_CAPACITY
}
