package dev.kubeos.agent.port;

/** Makes mutating agent operations exclusive, across threads and processes. */
public interface OperationLock {

  /**
   * Takes the lock for {@code operation} or throws an AgentException with code BUSY naming the
   * operation that holds it.
   */
  Held acquire(String operation);

  /** A held lock; closing releases it. */
  interface Held extends AutoCloseable {
    @Override
    void close();
  }
}
