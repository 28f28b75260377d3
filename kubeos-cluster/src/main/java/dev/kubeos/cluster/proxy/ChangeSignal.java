package dev.kubeos.cluster.proxy;

import dev.kubeos.crd.OSInstance;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;

/**
 * Wakes the proxy when its Node or its OSInstance changes: one informer on each, selected by name
 * ({@code fieldSelector=metadata.name=NODE}), so a proxy with nothing to do, or waiting for its
 * node to come back from the reboot, sends no requests at all; it looks again when the operator
 * assigns an operation or the node's status changes, and at the latest after the resync interval.
 * Without watch permission it falls back to polling at that interval. {@link #watching()} says
 * whether both informers run: one that stopped (fabric8 gave up on its watch) wakes the proxy and
 * turns it back to polling at the resync interval.
 */
final class ChangeSignal implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(ChangeSignal.class.getName());

  private final List<SharedIndexInformer<?>> informers = new ArrayList<>();
  private boolean changed;
  private long signals;

  /** Both informers started and none has stopped since. */
  private boolean watching;

  /** Starts watching the node and its OSInstance. */
  static ChangeSignal watch(KubernetesClient client, String namespace, String node) {
    ChangeSignal s = new ChangeSignal();
    try {
      s.informers.add(client.nodes().withName(node).inform(s.handler(), 0));
      s.informers.add(
          client
              .resources(OSInstance.class)
              .inNamespace(namespace)
              .withName(node)
              .inform(s.handler(), 0));
      s.watching(true);
      for (SharedIndexInformer<?> i : s.informers) {
        i.stopped().whenComplete((ended, error) -> s.stopped(node, error));
      }
    } catch (KubernetesClientException e) {
      LOG.warning(
          node
              + ": cannot watch the node and its OSInstance ("
              + e.getMessage()
              + "); polling instead (grant list/watch on nodes and osinstances)");
    }
    return s;
  }

  /**
   * Returns at once if something changed since the last call, else waits for a change at most
   * {@code timeout}. Returns whether something changed.
   */
  synchronized boolean await(Duration timeout) throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (!changed) {
      long left = end - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      wait(left / 1_000_000, (int) (left % 1_000_000));
    }
    changed = false;
    return true;
  }

  synchronized void signal() {
    changed = true;
    signals++;
    notifyAll();
  }

  /**
   * Whether both informers run: then every change to the Node and the OSInstance wakes {@link
   * #await}. False without watch permission, and after either informer stopped.
   */
  synchronized boolean watching() {
    return watching;
  }

  private synchronized void watching(boolean w) {
    watching = w;
  }

  /** An informer stopped (closed, or fabric8 gave up on its watch): wakes the proxy to poll. */
  private void stopped(String node, Throwable error) {
    boolean was;
    synchronized (this) {
      was = watching;
      watching = false;
    }
    if (was && error != null) {
      LOG.warning(
          node
              + ": the watch of the node or its OSInstance stopped ("
              + error.getMessage()
              + "); polling instead");
    }
    signal();
  }

  /** How many changes were signalled so far (the initial list's adds included). */
  synchronized long signals() {
    return signals;
  }

  private <T> ResourceEventHandler<T> handler() {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(T obj) {
        signal();
      }

      @Override
      public void onUpdate(T oldObj, T newObj) {
        signal();
      }

      @Override
      public void onDelete(T obj, boolean deletedFinalStateUnknown) {
        signal();
      }
    };
  }

  @Override
  public void close() {
    informers.forEach(SharedIndexInformer::close);
  }
}
