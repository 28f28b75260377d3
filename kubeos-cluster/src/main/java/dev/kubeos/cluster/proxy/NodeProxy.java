package dev.kubeos.cluster.proxy;

import dev.kubeos.cluster.proxy.model.Phase;
import dev.kubeos.cluster.proxy.model.ProxyStateMachine;
import dev.kubeos.cluster.proxy.model.Step;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.logging.Logger;

/**
 * The node proxy ({@code kubeos proxy}, one per node): drives its node's OSInstance through the
 * state machine of {@link ProxyStateMachine}, one step per {@link #runOnce()}, each transition
 * recorded in {@code OSInstance.status} before its action runs. A restarted proxy therefore resumes
 * at the recorded phase; the reboot is requested only on the transition into {@link
 * Phase#REBOOTING}, never when that phase is resumed, and never before the drain finished. A node
 * without an OSInstance is registered first: the proxy creates it, idle, as upstream's does.
 *
 * <p>This class holds the life cycle of the loop ({@link #start}, {@link #stop}, {@link #run});
 * what one pass observes, decides and does is {@link ProxyPass}'s.
 */
public final class NodeProxy {
  private static final Logger LOG = Logger.getLogger(NodeProxy.class.getName());

  private final KubernetesClient client;
  private final String nodeName;
  private final ProxyConfig config;
  private final String namespace;

  /** What one pass does: observe, ask {@link ProxyStateMachine}, act. */
  private final ProxyPass pass;

  /** Counted down by {@link #stop}: no new pass starts, and waits between passes end. */
  private final CountDownLatch stopRequested = new CountDownLatch(1);

  /** Counted down when {@link #run} returns. */
  private final CountDownLatch ended = new CountDownLatch(1);

  /** The thread in {@link #run}, interrupted by {@link #stop} to cancel a stalled step. */
  private volatile Thread runner;

  /** The watch of the running loop, woken by {@link #stop}. */
  private volatile ChangeSignal changes;

  /** The thread of {@link #start}, null before. */
  private Thread thread;

  /** Whether {@link #start} or {@link #run} was called. */
  private boolean entered;

  /**
   * @param namespace namespace of the OSInstances (the OS resource's {@code osinstancenamespace};
   *     upstream: {@code default})
   */
  public NodeProxy(
      KubernetesClient client,
      String nodeName,
      String namespace,
      AgentClient agent,
      ProxyConfig config,
      Clock clock) {
    this.client = client;
    this.nodeName = nodeName;
    this.config = config;
    this.namespace = namespace;
    this.pass = new ProxyPass(client, nodeName, namespace, agent, config, clock);
  }

  /**
   * Runs {@link #run} on a thread of its own ({@code kubeos-proxy-NODE}) until {@link #stop}. An
   * exception that ends the loop goes to {@code onCrash}.
   */
  public synchronized void start(Thread.UncaughtExceptionHandler onCrash) {
    if (entered) {
      throw new IllegalStateException("the proxy of " + nodeName + " was started already");
    }
    entered = true;
    Thread t =
        new Thread(
            () -> {
              try {
                run(() -> true);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // cancelled by stop(): the loop's end
              }
            },
            "kubeos-proxy-" + nodeName);
    t.setDaemon(true);
    t.setUncaughtExceptionHandler(onCrash);
    thread = t;
    t.start();
  }

  /** Whether the thread of {@link #start} is still running. */
  public synchronized boolean isRunning() {
    return thread != null && thread.isAlive();
  }

  /**
   * Stops the loop of {@link #start} or {@link #run}: no new pass starts and a wait between passes
   * ends at once. The pass in flight may finish within {@code grace}; after that it is cancelled:
   * its thread is interrupted, so a stalled API call (fabric8 answers an interrupt with {@code
   * InterruptedIOException}), an agent call or a drain's wait returns at once instead of running to
   * its timeout. A cancelled step is left as a killed process leaves it: every transition is
   * recorded before its action runs, so the next proxy resumes from {@code OSInstance.status}.
   * {@code kubeos proxy} calls it on SIGTERM.
   *
   * @return whether the loop ended within {@code grace} plus {@code timeout}
   */
  public boolean stop(Duration grace, Duration timeout) throws InterruptedException {
    stopRequested.countDown();
    ChangeSignal c = changes;
    if (c != null) {
      c.signal();
    }
    synchronized (this) {
      if (!entered || runner == Thread.currentThread()) {
        return true;
      }
    }
    if (ended(grace)) {
      return true;
    }
    Thread r = runner;
    if (r != null) {
      LOG.info(nodeName + ": stopping: cancelling the step in flight");
      r.interrupt();
    }
    return ended(timeout);
  }

  private boolean ended(Duration within) throws InterruptedException {
    long ms = Math.max(1, within.toMillis());
    if (!ended.await(ms, TimeUnit.MILLISECONDS)) {
      return false;
    }
    Thread t;
    synchronized (this) {
      t = thread;
    }
    if (t != null) {
      t.join(ms); // the thread of start() ends right after run() returned
      return !t.isAlive();
    }
    return true;
  }

  /**
   * Runs passes until {@code running} turns false or {@link #stop} is called. After a pass that
   * waits (for the reboot, the drain, a missing resource) it waits for its Node or OSInstance to
   * change ({@link ChangeSignal}), at most {@link ProxyConfig#resync()}; after a pass with nothing
   * to do, at most {@link ProxyConfig#idleResync()} while both watches run (only a change to the
   * OSInstance can give it something to do), else {@link ProxyConfig#resync()}. A retried agent
   * call waits {@link ProxyConfig#pollInterval()}. While the node waits for its agent to confirm
   * the commit of the new version ({@link Step.Poll}: nothing in the API server changes when it
   * does) the next pass comes after {@link ProxyConfig#commitPoll()}, or sooner on a change.
   */
  public void run(BooleanSupplier running) throws InterruptedException {
    synchronized (this) {
      entered = true;
      runner = Thread.currentThread();
    }
    try {
      if (stopRequested.getCount() == 0) {
        return;
      }
      try (ChangeSignal changes = ChangeSignal.watch(client, namespace, nodeName)) {
        this.changes = changes;
        while (running.getAsBoolean() && stopRequested.getCount() > 0) {
          Step s;
          try {
            s = runOnce();
          } catch (KubernetesClientException | IllegalStateException e) {
            if (Thread.currentThread().isInterrupted()) {
              throw new InterruptedException(nodeName + ": stopped during an API call");
            }
            LOG.warning(nodeName + ": pass failed, retrying: " + e.getMessage());
            s = new Step.Retry(e.getMessage());
          }
          if (s instanceof Step.Retry) {
            stopRequested.await(config.pollInterval().toMillis(), TimeUnit.MILLISECONDS);
          } else if (s instanceof Step.Poll) {
            changes.await(config.commitPoll());
          } else if (s instanceof Step.Nothing || s instanceof Step.Wait) {
            changes.await(changeWait(s, changes.watching(), config));
          }
        }
      }
    } finally {
      changes = null;
      runner = null;
      ended.countDown();
    }
  }

  /**
   * The longest wait for a change after a pass that decided {@code s} ({@link Step.Nothing} or
   * {@link Step.Wait}): {@link ProxyConfig#idleResync()} when there is nothing to do and the
   * watches run (only a change to the OSInstance, which they report, can change that), else {@link
   * ProxyConfig#resync()} (a deadline may pass, or the OS resource, which is not watched, may
   * change).
   */
  static Duration changeWait(Step s, boolean watching, ProxyConfig config) {
    return s instanceof Step.Nothing && watching ? config.idleResync() : config.resync();
  }

  /**
   * One pass: observe, ask {@link ProxyStateMachine}, do what it decided. Returns the step decided
   * for the pass, or the {@link Step.Retry} its action ended in (the caller pauses a poll interval
   * before the next pass). The pass itself is {@link ProxyPass#runOnce()}.
   */
  public Step runOnce() throws InterruptedException {
    return pass.runOnce();
  }
}
