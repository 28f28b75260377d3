package dev.kubeos.cluster.proxy;

import dev.kubeos.api.agent.AgentStatus;
import dev.kubeos.api.agent.ConfigureRequest;
import dev.kubeos.api.agent.UpgradeRequest;
import java.util.List;

/**
 * Port to the node's agent (docs/agent-api.md). Methods throw {@link
 * dev.kubeos.api.agent.AgentException} with the agent's typed code. Real: {@link
 * SocketAgentClient}; tests use an in-memory agent.
 */
public interface AgentClient {
  /** {@code prepare_upgrade}: stage the payload into the inactive slot (repeatable). */
  void prepareUpgrade(UpgradeRequest request);

  /** {@code upgrade}: arm a boot-once trial of the staged slot and reboot. */
  void upgrade();

  /** {@code rollback}: make the other verified slot the default and reboot. */
  void rollback();

  /**
   * {@code configure}: apply node settings, all-or-nothing. Returns the agent's warnings: entries
   * it skipped instead of refusing, as upstream's agent does (empty when none).
   */
  List<String> configure(ConfigureRequest request);

  /**
   * {@code status}: the slots and the last failed trial ({@link AgentStatus#lastFailure()}), which
   * the proxy adds to a node's {@code Failed} message when a trial boot fell back.
   */
  AgentStatus status();
}
