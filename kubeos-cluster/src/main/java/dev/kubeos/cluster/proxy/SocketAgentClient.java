package dev.kubeos.cluster.proxy;

import dev.kubeos.api.agent.AgentMethods;
import dev.kubeos.api.agent.AgentStatus;
import dev.kubeos.api.agent.ConfigureRequest;
import dev.kubeos.api.agent.OperationResult;
import dev.kubeos.api.agent.UpgradeRequest;
import dev.kubeos.rpc.JsonRpcClient;
import java.util.List;
import java.util.Objects;

/** {@link AgentClient} over the agent's Unix socket, with the agent's own JSON-RPC client. */
public final class SocketAgentClient implements AgentClient {
  private final JsonRpcClient rpc;

  public SocketAgentClient(JsonRpcClient rpc) {
    this.rpc = Objects.requireNonNull(rpc, "rpc");
  }

  @Override
  public void prepareUpgrade(UpgradeRequest request) {
    rpc.call(AgentMethods.PREPARE_UPGRADE, OperationResult.class, request);
  }

  @Override
  public void upgrade() {
    rpc.call(AgentMethods.UPGRADE, OperationResult.class);
  }

  @Override
  public void rollback() {
    rpc.call(AgentMethods.ROLLBACK, OperationResult.class);
  }

  @Override
  public List<String> configure(ConfigureRequest request) {
    return rpc.call(AgentMethods.CONFIGURE, OperationResult.class, request).warnings();
  }

  @Override
  public AgentStatus status() {
    return rpc.call(AgentMethods.STATUS, AgentStatus.class);
  }
}
