package dev.kubeos.cluster.proxy;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.cluster.proxy.model.Observed;
import dev.kubeos.cluster.proxy.model.Outcome;
import dev.kubeos.cluster.proxy.model.Phase;
import dev.kubeos.cluster.proxy.model.ProxyOperation;
import dev.kubeos.cluster.proxy.model.ProxyStateMachine;
import dev.kubeos.cluster.proxy.model.Step;
import dev.kubeos.crd.Namespaces;
import dev.kubeos.crd.OS;
import dev.kubeos.crd.OSInstance;
import dev.kubeos.crd.OSInstanceSpec;
import dev.kubeos.crd.OSSpec;
import dev.kubeos.crd.SysConfigs;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
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

  /**
   * One pass: observe, ask {@link ProxyStateMachine}, do what it decided. Returns the step decided
   * for the pass, or the {@link Step.Retry} its action ended in (the caller pauses a poll interval
   * before the next pass).
   */
  public Step runOnce() throws InterruptedException {
    OSInstance inst = status.read();
    if (inst == null) {
      return register();
    }
    OSInstanceSpec spec = inst.getSpec();
    ProxyOperation op = ProxyOperation.of(spec.getNodestatus());
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
            config.timeouts(os == null ? null : os.getSpec()));
    Step step = ProxyStateMachine.decide(o);
    Step result = execute(step, o, inst, os);
    return result instanceof Step.Retry ? result : step;
  }

  /**
   * The node has no OSInstance: registers it if its Node exists ({@link
   * ProxyStateMachine#unregistered}). The next pass reads what was created, by this proxy or by one
   * that raced it.
   */
  private Step register() {
    Node n = cordon.find();
    Step s = ProxyStateMachine.unregistered(n != null, status.where());
    log(s);
    if (s instanceof Step.Register r) {
      boolean created = status.register(n);
      LOG.info(
          nodeName
              + ": "
              + (created ? "registered: created OSInstance " : "OSInstance exists already: ")
              + r.where());
    }
    return s;
  }

  /** Does what {@code step} says; an action's result is the step its outcome led to. */
  private Step execute(Step step, Observed o, OSInstance inst, OS os) throws InterruptedException {
    log(step);
    if (step instanceof Step.Start s) {
      status.start(s.op().first(), s.target(), s.op().nodestatus() + " to " + s.target());
    } else if (step instanceof Step.Act a) {
      return act(a, o, inst, os.getSpec());
    } else if (step instanceof Step.Advance a) {
      status.record(a.to(), "node came back at " + o.osImage());
      if (a.to() == Phase.VERIFYING) {
        events.normal(node, NodeEvents.REBOOTED, "the node came back at " + o.osImage());
      }
    } else if (step instanceof Step.Fail f) {
      fail(f);
    } else if (step instanceof Step.Release) {
      status.setNodestatusIdle();
    } else if (step instanceof Step.Abort a) {
      cordon.uncordon();
      status.record(Phase.IDLE, a.why());
      events.warning(node, NodeEvents.ABORTED, a.why());
    }
    return step;
  }

  /**
   * Runs the action of the recorded phase, asks the state machine what its outcome means, and
   * records that: the next phase with what the action did, a retry note, or the failure.
   */
  private Step act(Step.Act a, Observed o, OSInstance inst, OSSpec os) throws InterruptedException {
    Outcome outcome = new Outcome.Done();
    String done = null;
    try {
      switch (a.phase()) {
        case STAGING -> {
          agent.prepareUpgrade(AgentRequests.upgrade(os));
          SysConfigs before = inst.getSpec().getUpgradeconfigs();
          if (AgentRequests.hasConfigs(before)) {
            warn("upgradeconfigs", before, agent.configure(AgentRequests.configure(before)));
          }
          done = "staged " + os.getOsversion();
        }
        case CORDONING ->
            done =
                cordon.cordon()
                    ? "cordoned"
                    : "the node was already cordoned by someone else: left so, not uncordoned later";
        case DRAINING -> {
          Drainer.Result r = drainer.drain(os.isEvictpodforce(), a.deadline());
          done = r.message();
          if (!r.complete()) {
            outcome = new Outcome.DrainIncomplete(r.message());
          }
        }
        case CONFIGURING -> {
          SysConfigs sys = inst.getSpec().getSysconfigs();
          if (AgentRequests.hasConfigs(sys)) {
            warn("sysconfigs", sys, agent.configure(AgentRequests.configure(sys)));
          }
          done = "sysconfigs applied";
        }
        case UNCORDONING -> {
          cordon.uncordon();
          done = a.op().nodestatus() + " to " + o.desiredTarget() + " done";
        }
        default -> throw new IllegalStateException(a.phase() + " has no action");
      }
    } catch (AgentException e) {
      outcome = agentError(e);
    }
    Step next = ProxyStateMachine.afterAction(o, a, outcome, clock.instant());
    if (next instanceof Step.Advance adv) {
      return advanced(a, adv.to(), done, o, inst);
    }
    return follow(next);
  }

  /**
   * Records the agent's warnings about a {@code configure} it applied (entries skipped, as upstream
   * skips them) as one Warning Event on the Node, so the admin sees what was not applied.
   */
  private void warn(String field, SysConfigs configs, List<String> warnings) {
    if (warnings == null || warnings.isEmpty()) {
      return;
    }
    String msg =
        field
            + " "
            + configs.getVersion()
            + " applied with "
            + warnings.size()
            + (warnings.size() == 1 ? " entry" : " entries")
            + " skipped: "
            + String.join("; ", warnings);
    LOG.warning(nodeName + ": " + msg);
    events.warning(node, NodeEvents.CONFIGURE_WARNING, msg);
  }

  /** Records the phase {@code to} that the action of {@code a} led to, with its Event. */
  private Step advanced(Step.Act a, Phase to, String done, Observed o, OSInstance inst) {
    ProxyOperation op = a.op();
    switch (a.phase()) {
      case STAGING -> {
        SysConfigs before = inst.getSpec().getUpgradeconfigs();
        status.record(to, done, s -> s.setUpgradeconfigs(before));
        events.normal(node, NodeEvents.STAGED, done);
      }
      case CORDONING -> {
        status.record(to, done);
        events.normal(node, NodeEvents.DRAINING, done + "; draining");
      }
      case DRAINING -> {
        return reboot(op, done, o);
      }
      case CONFIGURING -> {
        SysConfigs sys = inst.getSpec().getSysconfigs();
        status.record(to, done, s -> s.setSysconfigs(sys));
        if (to == Phase.DONE) {
          events.normal(node, doneReason(op), op.nodestatus() + " to " + o.desiredTarget());
        }
      }
      case UNCORDONING -> {
        status.record(to, done);
        events.normal(node, doneReason(op), done);
      }
      default -> throw new IllegalStateException(a.phase() + " has no action");
    }
    return new Step.Advance(to);
  }

  /**
   * Enters {@link Phase#REBOOTING} and asks the agent to reboot, once: the phase (with the bootID
   * before the request, so a new one afterwards proves the reboot happened) is recorded first.
   */
  private Step reboot(ProxyOperation op, String drained, Observed o) {
    String msg = drained + "; reboot requested";
    status.record(Phase.REBOOTING, msg, s -> s.setBootid(o.bootId()));
    events.normal(node, NodeEvents.REBOOTING, msg + " into " + o.desiredTarget());
    Outcome outcome;
    try {
      if (op == ProxyOperation.ROLLBACK) {
        agent.rollback();
      } else {
        agent.upgrade();
      }
      outcome = new Outcome.Done();
    } catch (AgentException e) {
      outcome = agentError(e);
    }
    return follow(ProxyStateMachine.afterRebootRequest(o, outcome));
  }

  /** Does what the state machine decided after an action: note a retry, or fail. */
  private Step follow(Step next) {
    log(next);
    if (next instanceof Step.Retry r) {
      status.note(r.why());
    } else if (next instanceof Step.Fail f) {
      fail(f);
    }
    return next;
  }

  private static Outcome agentError(AgentException e) {
    return new Outcome.AgentError(e.code().action(), e.getMessage() + " [" + e.code() + "]");
  }

  private void log(Step step) {
    if (!(step instanceof Step.Nothing)) {
      LOG.info(nodeName + ": " + step);
    }
  }

  private void fail(Step.Fail f) {
    fail(f.kind() == Step.Failure.DRAIN ? NodeEvents.DRAIN_FAILED : NodeEvents.FAILED, f.message());
  }

  private void fail(String reason, String message) {
    cordon.uncordon();
    status.record(Phase.FAILED, message);
    events.warning(node, reason, message);
  }

  private static String doneReason(ProxyOperation op) {
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
    return client
        .resources(OS.class)
        .inNamespace(Namespaces.orDefault(spec.getNamespacedname().getNamespace()))
        .withName(spec.getNamespacedname().getName())
        .get();
  }

  private static String osName(OSInstanceSpec spec) {
    var nn = spec.getNamespacedname();
    return nn == null ? "(none)" : nn.getNamespace() + "/" + nn.getName();
  }

  /** OS version for upgrade and rollback; the sysconfigs version for config. */
  static String target(ProxyOperation op, OSInstanceSpec spec, OSSpec os) {
    if (op == ProxyOperation.CONFIG) {
      String v = spec.getSysconfigs() == null ? null : spec.getSysconfigs().getVersion();
      if (v == null && os.getSysconfigs() != null) {
        v = os.getSysconfigs().getVersion();
      }
      return v;
    }
    return os.getOsversion();
  }
}
