package dev.kubeos.cluster.proxy.model;

import dev.kubeos.api.agent.Action;

/**
 * How the action of a phase ended, as the proxy saw it: the input of {@link
 * ProxyStateMachine#afterAction} and {@link ProxyStateMachine#afterRebootRequest}.
 */
public sealed interface Outcome {
  /** The action completed. */
  record Done() implements Outcome {}

  /**
   * The agent call failed.
   *
   * @param action what its error code tells the caller to do ({@link Action#RETRY}: transient)
   * @param message the agent's message with its code, e.g. {@code busy [BUSY]}
   * @param answered the agent itself answered with this typed error, so it did not act ({@link
   *     dev.kubeos.api.agent.AgentException#answered()}); false when the call failed on the way and
   *     what the node did is not known
   */
  record AgentError(Action action, String message, boolean answered) implements Outcome {
    /** Whether the same request may succeed later. */
    public boolean transientError() {
      return action == Action.RETRY;
    }
  }
}
