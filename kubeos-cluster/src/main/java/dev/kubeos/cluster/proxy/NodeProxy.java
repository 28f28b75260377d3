package dev.kubeos.cluster.proxy;

import dev.kubeos.api.agent.Action;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.crd.OS;
import dev.kubeos.api.crd.OSInstance;
import dev.kubeos.api.crd.OSInstanceSpec;
import dev.kubeos.api.crd.OSSpec;
import dev.kubeos.api.crd.SysConfigs;
import dev.kubeos.cluster.proxy.model.Observed;
import dev.kubeos.cluster.proxy.model.Operation;
import dev.kubeos.cluster.proxy.model.Phase;
import dev.kubeos.cluster.proxy.model.ProxyStateMachine;
import dev.kubeos.cluster.proxy.model.Step;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.logging.Logger;

/**
 * The node proxy ({@code kubeos proxy}, one per node): drives its node's OSInstance through the
 * state machine of {@link ProxyStateMachine}, one step per {@link #runOnce()}, each transition
 * recorded in {@code OSInstance.status} before its action runs. A restarted proxy therefore resumes
 * at the recorded phase; the reboot is requested only on the transition into {@link
 * Phase#REBOOTING}, never when that phase is resumed, and never before the drain finished.
 */
public final class NodeProxy {
  private static final Logger LOG = Logger.getLogger(NodeProxy.class.getName());

  private final KubernetesClient client;
  private final String nodeName;
  private final AgentClient agent;
  private final ProxyConfig config;
  private final Clock clock;
  private final InstanceStatusWriter status;
  private final NodeCordon cordon;
  private final Drainer drainer;
  private final NodeEvents events;
  private final String namespace;

  /** Set by a pass whose agent call is to be retried: the next pass waits a poll interval. */
  private boolean retrying;

  /** The node as read at the start of the current pass (the Events' involved object). */
  private Node node;

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
    this.agent = agent;
    this.config = config;
    this.clock = clock;
    this.status = new InstanceStatusWriter(client, namespace, nodeName, clock);
    this.cordon = new NodeCordon(client, nodeName);
    this.drainer = new Drainer(client, nodeName, config, clock);
    this.events = new NodeEvents(client, namespace, clock);
    this.namespace = namespace;
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
   * Runs passes until {@code running} turns false or {@link #stop} is called. After a pass with
   * nothing to do, or one that waits (for the reboot, a missing resource, a retried agent call), it
   * waits for its Node or OSInstance to change ({@link ChangeSignal}), at most {@link
   * ProxyConfig#resync()}; a retried agent call waits at least {@link ProxyConfig#pollInterval()}.
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
          retrying = false;
          try {
            s = runOnce();
          } catch (KubernetesClientException | IllegalStateException e) {
            if (Thread.currentThread().isInterrupted()) {
              throw new InterruptedException(nodeName + ": stopped during an API call");
            }
            LOG.warning(nodeName + ": pass failed, retrying: " + e.getMessage());
            s = new Step.Wait(e.getMessage());
            retrying = true;
          }
          if (retrying) {
            stopRequested.await(config.pollInterval().toMillis(), TimeUnit.MILLISECONDS);
          } else if (s instanceof Step.Nothing || s instanceof Step.Wait) {
            changes.await(config.resync());
          }
        }
      }
    } finally {
      changes = null;
      runner = null;
      ended.countDown();
    }
  }

  /** One pass: observe, decide, do one step. Returns the step taken. */
  public Step runOnce() throws InterruptedException {
    OSInstance inst = status.read();
    if (inst == null) {
      return new Step.Nothing("no OSInstance " + status.where());
    }
    OSInstanceSpec spec = inst.getSpec();
    Operation op = Operation.of(spec.getNodestatus());
    OS os = op == null ? null : os(spec);
    String problem = null;
    String target = null;
    if (op != null && os == null) {
      problem = "OS resource " + osName(spec) + " named by the OSInstance does not exist";
    } else if (op != null) {
      target = target(op, spec, os.getSpec());
      if (target == null) {
        problem = "no target: the OS resource has no osversion / sysconfigs.version";
      }
    }
    node = cordon.node();
    var info = node.getStatus() == null ? null : node.getStatus().getNodeInfo();
    String osImage = info == null ? null : info.getOsImage();
    String bootId = info == null ? null : info.getBootID();
    var st = inst.getStatus();
    Observed o =
        new Observed(
            op,
            target,
            problem,
            Phase.parse(st == null ? null : st.getPhase()),
            st == null ? null : st.getTarget(),
            st == null || st.getPhasetime() == null ? null : Instant.parse(st.getPhasetime()),
            osImage,
            bootId,
            st == null ? null : st.getBootid(),
            clock.instant(),
            config.rebootTimeout());
    Step step = ProxyStateMachine.decide(o);
    execute(step, o, inst, os);
    return step;
  }

  private void execute(Step step, Observed o, OSInstance inst, OS os) throws InterruptedException {
    if (step instanceof Step.Start s) {
      status.start(s.op().first(), s.target(), s.op().nodestatus() + " to " + s.target());
    } else if (step instanceof Step.Act a) {
      act(a.op(), a.phase(), o, inst, os.getSpec());
    } else if (step instanceof Step.Advance a) {
      status.record(a.to(), "node came back at " + o.osImage());
      if (a.to() == Phase.VERIFYING) {
        events.normal(node, NodeEvents.REBOOTED, "the node came back at " + o.osImage());
      }
    } else if (step instanceof Step.Fail f) {
      fail(NodeEvents.FAILED, f.message());
    } else if (step instanceof Step.Release) {
      status.setNodestatusIdle();
    } else if (step instanceof Step.Abort a) {
      cordon.uncordon();
      status.record(Phase.IDLE, a.why());
      events.warning(node, NodeEvents.ABORTED, a.why());
    }
    if (!(step instanceof Step.Nothing)) {
      LOG.info(nodeName + ": " + step);
    }
  }

  private void act(Operation op, Phase phase, Observed o, OSInstance inst, OSSpec os)
      throws InterruptedException {
    Phase next = op.after(phase);
    try {
      switch (phase) {
        case STAGING -> {
          agent.prepareUpgrade(AgentRequests.upgrade(os));
          SysConfigs before = inst.getSpec().getUpgradeconfigs();
          if (AgentRequests.hasConfigs(before)) {
            agent.configure(AgentRequests.configure(before));
          }
          status.record(next, "staged " + os.getOsversion(), s -> s.setUpgradeconfigs(before));
          events.normal(node, NodeEvents.STAGED, "staged " + os.getOsversion());
        }
        case CORDONING -> {
          boolean ours = cordon.cordon();
          String msg =
              ours
                  ? "cordoned"
                  : "the node was already cordoned by someone else: left so, not uncordoned later";
          status.record(next, msg);
          events.normal(node, NodeEvents.DRAINING, msg + "; draining");
        }
        case DRAINING -> drainThenReboot(op, o, os);
        case CONFIGURING -> {
          SysConfigs sys = inst.getSpec().getSysconfigs();
          if (AgentRequests.hasConfigs(sys)) {
            agent.configure(AgentRequests.configure(sys));
          }
          status.record(next, "sysconfigs applied", s -> s.setSysconfigs(sys));
          if (next == Phase.DONE) {
            events.normal(node, doneReason(op), op.nodestatus() + " to " + o.desiredTarget());
          }
        }
        case UNCORDONING -> {
          cordon.uncordon();
          String msg = op.nodestatus() + " to " + o.desiredTarget() + " done";
          status.record(next, msg);
          events.normal(node, doneReason(op), msg);
        }
        default -> throw new IllegalStateException(phase + " has no action");
      }
    } catch (AgentException e) {
      retryOrFail(phase, o, "agent: " + e.getMessage() + " [" + e.code() + "]", e);
    }
  }

  private void drainThenReboot(Operation op, Observed o, OSSpec os) throws InterruptedException {
    Instant since = o.phaseSince() == null ? clock.instant() : o.phaseSince();
    Duration timeout =
        os.getDraintimeout() == null
            ? config.defaultDrainTimeout()
            : Duration.ofSeconds(os.getDraintimeout());
    Drainer.Result r = drainer.drain(os.isEvictpodforce(), since.plus(timeout));
    if (!r.complete()) {
      fail(NodeEvents.DRAIN_FAILED, r.message()); // never reboot an undrained node
      return;
    }
    // the bootID before the request: a new one afterwards proves the reboot happened
    String msg = r.message() + "; reboot requested";
    status.record(Phase.REBOOTING, msg, s -> s.setBootid(o.bootId()));
    events.normal(node, NodeEvents.REBOOTING, msg + " into " + o.desiredTarget());
    try {
      if (op == Operation.ROLLBACK) {
        agent.rollback();
      } else {
        agent.upgrade();
      }
    } catch (AgentException e) {
      if (e.code().action() == Action.RETRY) {
        // the connection may have dropped because the node is going down: let the reboot
        // timeout decide, never ask twice
        LOG.warning(nodeName + ": reboot request: " + e.getMessage() + "; waiting for the node");
        return;
      }
      fail(
          NodeEvents.FAILED,
          "the agent refused to "
              + op.nodestatus()
              + ": "
              + e.getMessage()
              + " ["
              + e.code()
              + "]");
    }
  }

  private void retryOrFail(Phase phase, Observed o, String message, AgentException e) {
    Instant since = o.phaseSince() == null ? clock.instant() : o.phaseSince();
    boolean expired = !clock.instant().isBefore(since.plus(config.rebootTimeout()));
    if (e.code().action() == Action.RETRY && !expired) {
      status.note(message + "; retrying " + phase.wireName());
      retrying = true;
      return;
    }
    fail(NodeEvents.FAILED, phase.wireName() + " failed: " + message);
  }

  private void fail(String reason, String message) {
    cordon.uncordon();
    status.record(Phase.FAILED, message);
    events.warning(node, reason, message);
  }

  private static String doneReason(Operation op) {
    return switch (op) {
      case UPGRADE -> NodeEvents.UPGRADED;
      case CONFIG -> NodeEvents.CONFIGURED;
      case ROLLBACK -> NodeEvents.ROLLED_BACK;
    };
  }

  private OS os(OSInstanceSpec spec) {
    if (spec.getNamespacedname() == null || spec.getNamespacedname().getName() == null) {
      return null;
    }
    String ns = spec.getNamespacedname().getNamespace();
    return client
        .resources(OS.class)
        .inNamespace(ns == null || ns.isEmpty() ? "default" : ns)
        .withName(spec.getNamespacedname().getName())
        .get();
  }

  private static String osName(OSInstanceSpec spec) {
    var nn = spec.getNamespacedname();
    return nn == null ? "(none)" : nn.getNamespace() + "/" + nn.getName();
  }

  /** OS version for upgrade and rollback; the sysconfigs version for config. */
  static String target(Operation op, OSInstanceSpec spec, OSSpec os) {
    if (op == Operation.CONFIG) {
      String v = spec.getSysconfigs() == null ? null : spec.getSysconfigs().getVersion();
      if (v == null && os.getSysconfigs() != null) {
        v = os.getSysconfigs().getVersion();
      }
      return v;
    }
    return os.getOsversion();
  }
}
