package dev.kubeos.cluster.proxy;

import dev.kubeos.api.agent.Action;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.crd.OS;
import dev.kubeos.api.crd.OSInstance;
import dev.kubeos.api.crd.OSInstanceSpec;
import dev.kubeos.api.crd.OSSpec;
import dev.kubeos.api.crd.SysConfigs;
import dev.kubeos.cluster.proxy.model.Observed;
import dev.kubeos.cluster.proxy.model.Phase;
import dev.kubeos.cluster.proxy.model.ProxyOperation;
import dev.kubeos.cluster.proxy.model.ProxyStateMachine;
import dev.kubeos.cluster.proxy.model.Step;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
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
   * Runs passes until {@code running} turns false. After a pass with nothing to do, or one that
   * waits (for the reboot, a missing resource, a retried agent call), it waits for its Node or
   * OSInstance to change ({@link ChangeSignal}), at most {@link ProxyConfig#resync()}; a retried
   * agent call waits at least {@link ProxyConfig#pollInterval()}.
   */
  public void run(BooleanSupplier running) throws InterruptedException {
    try (ChangeSignal changes = ChangeSignal.watch(client, namespace, nodeName)) {
      while (running.getAsBoolean()) {
        Step s;
        retrying = false;
        try {
          s = runOnce();
        } catch (KubernetesClientException | IllegalStateException e) {
          LOG.warning(nodeName + ": pass failed, retrying: " + e.getMessage());
          s = new Step.Wait(e.getMessage());
          retrying = true;
        }
        if (retrying) {
          Thread.sleep(config.pollInterval().toMillis());
        } else if (s instanceof Step.Nothing || s instanceof Step.Wait) {
          changes.await(config.resync());
        }
      }
    }
  }

  /** One pass: observe, decide, do one step. Returns the step taken. */
  public Step runOnce() throws InterruptedException {
    OSInstance inst = status.read();
    if (inst == null) {
      return new Step.Nothing("no OSInstance " + status.where());
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

  private void act(ProxyOperation op, Phase phase, Observed o, OSInstance inst, OSSpec os)
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

  private void drainThenReboot(ProxyOperation op, Observed o, OSSpec os)
      throws InterruptedException {
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
      if (op == ProxyOperation.ROLLBACK) {
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
