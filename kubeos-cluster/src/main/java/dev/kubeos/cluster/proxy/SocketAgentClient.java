package dev.kubeos.cluster.proxy;

import dev.kubeos.api.agent.AgentMethods;
import dev.kubeos.api.agent.AgentStatus;
import dev.kubeos.api.agent.ConfigureRequest;
import dev.kubeos.api.agent.OperationResult;
import dev.kubeos.api.agent.UpgradeRequest;
import dev.kubeos.rpc.JsonRpcClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/** {@link AgentClient} over the agent's Unix socket, with the agent's own JSON-RPC client. */
public final class SocketAgentClient implements AgentClient {
  /** Makes the client on the first call; null once it is made. */
  private Supplier<JsonRpcClient> factory;

  private JsonRpcClient rpc;

  public SocketAgentClient(JsonRpcClient rpc) {
    this.rpc = Objects.requireNonNull(rpc, "rpc");
  }

  private SocketAgentClient(Supplier<JsonRpcClient> factory) {
    this.factory = factory;
  }

  /**
   * A client whose {@link JsonRpcClient} (and with it the agent's Jackson 2 mapper, about 500
   * classes) is made on the first call: an idle proxy never calls the agent, and after an upgrade
   * the node reboots and the proxy starts anew (docs/benchmarks.md, "Agent and proxy memory").
   */
  public static SocketAgentClient lazy(Path socket, Duration timeout) {
    Objects.requireNonNull(socket, "socket");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive, got " + timeout);
    }
    return new SocketAgentClient(() -> new JsonRpcClient(socket, timeout));
  }

  private synchronized JsonRpcClient rpc() {
    if (rpc == null) {
      rpc = factory.get();
      factory = null;
    }
    return rpc;
  }

  @Override
  public void prepareUpgrade(UpgradeRequest request) {
    rpc().call(AgentMethods.PREPARE_UPGRADE, OperationResult.class, request);
  }

  @Override
  public void upgrade() {
    rpc().call(AgentMethods.UPGRADE, OperationResult.class);
  }

  @Override
  public void rollback() {
    rpc().call(AgentMethods.ROLLBACK, OperationResult.class);
  }

  @Override
  public List<String> configure(ConfigureRequest request) {
    return rpc().call(AgentMethods.CONFIGURE, OperationResult.class, request).warnings();
  }

  @Override
  public AgentStatus status() {
    return rpc().call(AgentMethods.STATUS, AgentStatus.class);
  }
}
