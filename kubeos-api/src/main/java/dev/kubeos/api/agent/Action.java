package dev.kubeos.api.agent;

/** What the caller of a failed agent operation should do next. */
public enum Action {
  /** A transient condition: the same request may succeed later (busy, network). */
  RETRY,
  /**
   * The node is fine but the requested change cannot be made; roll the rollout back or fix input.
   */
  ROLL_BACK,
  /** Nothing the caller can retry will help; a person must look (disk layout, internal error). */
  GIVE_UP
}
