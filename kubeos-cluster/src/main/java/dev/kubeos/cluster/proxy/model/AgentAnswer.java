package dev.kubeos.cluster.proxy.model;

import dev.kubeos.api.agent.AgentStatus;
import java.util.Objects;

/**
 * What the node's agent answered when the proxy asked for its {@code status} ({@link
 * ProxyStateMachine#needsAgentStatus}): the input of the decision in {@link Phase#VERIFYING}.
 * Nothing in the API server changes when the agent commits a trial boot, so the proxy asks.
 */
public sealed interface AgentAnswer {
  /** The agent answered with its status. */
  record Status(AgentStatus status) implements AgentAnswer {
    public Status {
      Objects.requireNonNull(status, "status");
    }
  }

  /**
   * The agent could not be asked, or its answer not read: the socket-activated agent is starting or
   * restarting, the connection failed, it was busy. Asked again later.
   *
   * @param message what went wrong, for the status message
   */
  record Unreachable(String message) implements AgentAnswer {}

  /**
   * The agent has no {@code status} method (JSON-RPC "method not found"): upstream's os-agent,
   * which has no boot-once trial and no health-gated commit, so there is nothing to wait for.
   *
   * @param message the agent's answer
   */
  record NoStatusMethod(String message) implements AgentAnswer {}
}
