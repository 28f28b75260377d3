package dev.kubeos.rpc;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.AgentStatus;
import dev.kubeos.api.agent.ConfigureRequest;
import dev.kubeos.api.agent.OperationResult;
import dev.kubeos.api.agent.UpgradeRequest;

/**
 * What the agent daemon serves over its JSON-RPC socket. Every method may throw {@link
 * AgentException}; its {@link dev.kubeos.api.agent.ErrorCode} travels to the caller unchanged.
 * Implementations decide themselves whether operations may overlap (the server calls them from
 * several connection threads at once).
 */
public interface AgentOperations {

  /** {@code prepare_upgrade}: fetch and stage the new OS into the inactive slot. */
  OperationResult prepareUpgrade(UpgradeRequest request);

  /** {@code upgrade}: arm the staged slot as the boot-once trial and reboot. */
  OperationResult upgrade();

  /** {@code rollback}: boot the other slot again. */
  OperationResult rollback();

  /** {@code configure}: apply node settings (sysctl, kubelet, ...). */
  OperationResult configure(ConfigureRequest request);

  /** {@code status}: where the node runs and what each slot holds; must not wait for others. */
  AgentStatus status();

  /** {@code commit}: make the running trial slot the default. */
  OperationResult commit();
}
