package dev.kubeos.cluster.proxy;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.AgentStatus;
import dev.kubeos.api.agent.ConfigureRequest;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.api.agent.Slot;
import dev.kubeos.api.agent.UpgradeRequest;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An agent in memory whose node "reboots" by changing {@code status.nodeInfo.osImage} and {@code
 * bootID} after a delay: into the staged version on {@code upgrade}, into {@code otherSlot} on
 * {@code rollback}. Its slots survive proxy restarts (one instance per node, shared by successive
 * proxies: the node's "disk").
 */
final class MemoryAgent implements AgentClient {
  final List<String> calls = new CopyOnWriteArrayList<>();
  final List<ConfigureRequest> configured = new CopyOnWriteArrayList<>();

  /** What {@code configure} answers in {@code warnings} (entries the agent skipped). */
  volatile List<String> configureWarnings = List.of();

  private final KubernetesClient client;
  private final String node;
  private final long rebootDelayMs;
  private volatile String staged;
  volatile String otherSlot;

  /** When set, the next reboot request reboots and then the caller dies (a killed proxy). */
  volatile boolean dieAfterReboot;

  /** When set, the reboot lands on this version instead (a trial boot that fell back). */
  volatile String bootsInto;

  /** What {@code status} reports as the last failed trial (null: none). */
  volatile String lastFailure;

  /** When set, {@code status} fails with this code (the agent cannot be reached). */
  volatile ErrorCode statusFails;

  /** When set, {@code upgrade} is accepted but the node never reboots. */
  volatile boolean neverReboots;

  /** When set, {@code prepare_upgrade} fails with this code (e.g. a bad checksum). */
  volatile ErrorCode stageFails;

  /** Reboots that happened (bootID changed). */
  final java.util.concurrent.atomic.AtomicInteger boots =
      new java.util.concurrent.atomic.AtomicInteger();

  MemoryAgent(KubernetesClient client, String node, long rebootDelayMs) {
    this.client = client;
    this.node = node;
    this.rebootDelayMs = rebootDelayMs;
  }

  @Override
  public void prepareUpgrade(UpgradeRequest request) {
    calls.add("prepare_upgrade " + request.version());
    if (stageFails != null) {
      throw new AgentException(
          stageFails, "staging " + request.version() + " failed: the payload's checksum differs");
    }
    staged = request.version();
  }

  @Override
  public void upgrade() {
    calls.add("upgrade");
    if (staged == null) {
      throw new AgentException(ErrorCode.PRECONDITION_FAILED, "nothing staged");
    }
    reboot(bootsInto != null ? bootsInto : staged);
  }

  @Override
  public void rollback() {
    calls.add("rollback");
    if (otherSlot == null) {
      throw new AgentException(ErrorCode.PRECONDITION_FAILED, "the other slot is not verified");
    }
    reboot(otherSlot);
  }

  @Override
  public List<String> configure(ConfigureRequest request) {
    calls.add("configure " + request.version());
    configured.add(request);
    return configureWarnings;
  }

  @Override
  public AgentStatus status() {
    calls.add("status");
    if (statusFails != null) {
      throw new AgentException(statusFails, "cannot connect to the agent's socket");
    }
    return new AgentStatus(Slot.A, Slot.A, null, Slot.A, false, Map.of(), lastFailure);
  }

  long count(String call) {
    return calls.stream().filter(c -> c.equals(call)).count();
  }

  private void reboot(String version) {
    if (neverReboots) {
      return;
    }
    Thread t =
        new Thread(
            () -> {
              try {
                Thread.sleep(rebootDelayMs);
              } catch (InterruptedException e) {
                return;
              }
              client
                  .nodes()
                  .withName(node)
                  .editStatus(
                      n -> {
                        n.getStatus().getNodeInfo().setOsImage(version);
                        n.getStatus()
                            .getNodeInfo()
                            .setBootID("boot-" + node + "-" + boots.incrementAndGet());
                        return n;
                      });
            });
    t.setDaemon(true);
    t.start();
    if (dieAfterReboot) {
      dieAfterReboot = false;
      throw new ProxyKilled();
    }
  }

  /** Thrown to simulate the proxy process dying in the middle of a step. */
  static final class ProxyKilled extends RuntimeException {
    ProxyKilled() {
      super("proxy killed");
    }
  }
}
