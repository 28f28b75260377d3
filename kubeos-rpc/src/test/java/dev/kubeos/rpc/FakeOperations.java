package dev.kubeos.rpc;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.AgentStatus;
import dev.kubeos.api.agent.ConfigureRequest;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.api.agent.OperationResult;
import dev.kubeos.api.agent.Slot;
import dev.kubeos.api.agent.SlotState;
import dev.kubeos.api.agent.SlotStatus;
import dev.kubeos.api.agent.UpgradeRequest;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Agent operations for socket tests: records requests, can hold {@code prepare_upgrade} on a latch
 * and, like the real core, answers BUSY to a second mutating call while one runs.
 */
final class FakeOperations implements AgentOperations {
  static final AgentStatus STATUS =
      new AgentStatus(
          Slot.A,
          Slot.A,
          Slot.B,
          Slot.B,
          false,
          Map.of(
              Slot.A,
              new SlotStatus("v1", "aa", SlotState.VERIFIED, Instant.parse("2024-01-02T03:04:05Z")),
              Slot.B,
              new SlotStatus(
                  "v2", "bb", SlotState.VERIFIED, Instant.parse("2024-02-03T04:05:06Z"))),
          null);

  final List<Object> received = new CopyOnWriteArrayList<>();
  final CountDownLatch release = new CountDownLatch(1);
  final AtomicBoolean preparing = new AtomicBoolean();
  volatile boolean holdPrepare;
  volatile AgentException failure;
  private final AtomicBoolean mutating = new AtomicBoolean();

  private OperationResult mutate(Object call, OperationResult result) {
    received.add(call);
    if (failure != null) {
      throw failure;
    }
    if (!mutating.compareAndSet(false, true)) {
      throw new AgentException(ErrorCode.BUSY, "another operation is running; retry when done");
    }
    try {
      if (call instanceof UpgradeRequest && holdPrepare) {
        preparing.set(true);
        if (!release.await(2, TimeUnit.MINUTES)) {
          throw new AgentException(ErrorCode.INTERNAL, "test never released prepare_upgrade");
        }
      }
      return result;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AgentException(ErrorCode.INTERNAL, "interrupted");
    } finally {
      mutating.set(false);
    }
  }

  @Override
  public OperationResult prepareUpgrade(UpgradeRequest request) {
    return mutate(request, OperationResult.UPGRADE_READY);
  }

  @Override
  public OperationResult upgrade() {
    return mutate("upgrade", OperationResult.UPGRADED);
  }

  @Override
  public OperationResult rollback() {
    return mutate("rollback", OperationResult.ROLLBACKED);
  }

  @Override
  public OperationResult configure(ConfigureRequest request) {
    return mutate(request, OperationResult.CONFIGURED);
  }

  @Override
  public AgentStatus status() {
    received.add("status");
    return STATUS;
  }

  @Override
  public OperationResult commit() {
    return mutate("commit", new OperationResult("Committed"));
  }
}
