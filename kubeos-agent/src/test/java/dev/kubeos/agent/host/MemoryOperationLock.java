package dev.kubeos.agent.host;

import dev.kubeos.agent.port.OperationLock;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import java.util.concurrent.Semaphore;

/** In-process operation lock (tests, in-memory agents of simulated clusters). */
public final class MemoryOperationLock implements OperationLock {
  private final Semaphore permit = new Semaphore(1);
  private volatile String holder = "";

  @Override
  public Held acquire(String operation) {
    if (!permit.tryAcquire()) {
      throw new AgentException(
          ErrorCode.BUSY,
          "another agent operation is running: " + holder + "; retry when it has finished");
    }
    holder = operation;
    return permit::release;
  }
}
