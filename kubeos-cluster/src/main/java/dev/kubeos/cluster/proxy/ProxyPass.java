package dev.kubeos.cluster.proxy;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.AgentStatus;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.cluster.proxy.model.AgentAnswer;
import dev.kubeos.cluster.proxy.model.CommitCheck;
import dev.kubeos.cluster.proxy.model.DrainAnswer;
import dev.kubeos.cluster.proxy.model.Observed;
import dev.kubeos.cluster.proxy.model.Outcome;
import dev.kubeos.cluster.proxy.model.Phase;
import dev.kubeos.cluster.proxy.model.ProxyOperation;
import dev.kubeos.cluster.proxy.model.ProxyStateMachine;
import dev.kubeos.cluster.proxy.model.Step;
import dev.kubeos.crd.DrainReport;
import dev.kubeos.crd.Namespaces;
import dev.kubeos.crd.OS;
import dev.kubeos.crd.OSInstance;
import dev.kubeos.crd.OSInstanceSpec;
import dev.kubeos.crd.OSInstanceStatus;
import dev.kubeos.crd.OSSpec;
import dev.kubeos.crd.SysConfigs;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.logging.Logger;

/**
 * One pass of the node proxy ({@link NodeProxy#runOnce()}): observe the node's OSInstance, its OS
 * resource and its Node, ask the pure {@link ProxyStateMachine} what to do, and do it (register the
 * node, call the agent, cordon, record {@code OSInstance.status}, emit the Node's Events). Every
 * transition is recorded before its action runs. The proxy writes its Node (cordon), its
 * OSInstance's status and, once, its OSInstance (registration); the drain and the hand-back ({@code
 * spec.nodestatus: idle}) are the operator's. The thread life cycle that repeats passes is {@link
 * NodeProxy}'s.
 */
final class ProxyPass {
  /** The proxy's logger: a pass logs under {@link NodeProxy}'s name, as it always did. */
  private static final Logger LOG = Logger.getLogger(NodeProxy.class.getName());

  private final KubernetesClient client;
  private final String nodeName;
  private final AgentClient agent;
  private final ProxyConfig config;
  private final Clock clock;
  private final InstanceStatusWriter status;
  private final NodeCordon cordon;
  private final NodeEvents events;

  /** The node as read at the start of the current pass (the Events' involved object). */
  private Node node;

  ProxyPass(
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
    this.events = new NodeEvents(client, namespace, clock);
  }

  /**
   * One pass: observe, ask {@link ProxyStateMachine}, do what it decided. Returns the step decided
   * for the pass, or the {@link Step.Retry} its action ended in (the caller pauses a poll interval
   * before the next pass).
   */
  Step runOnce() throws InterruptedException {
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
      target = op.target(spec, os.getSpec());
      if (target == null) {
        problem = "no target: the OS resource has no osversion / sysconfigs.version";
      }
    }
    node = cordon.node();
    var info = node.getStatus() == null ? null : node.getStatus().getNodeInfo();
    String osImage = info == null ? null : info.getOsImage();
    String bootId = info == null ? null : info.getBootID();
    var st = inst.getStatus();
    Phase phase = Phase.parse(st == null ? null : st.getPhase());
    Observed o =
        new Observed(
            op,
            target,
            problem,
            phase,
            st == null ? null : st.getTarget(),
            st == null || st.getPhasetime() == null ? null : Instant.parse(st.getPhasetime()),
            osImage,
            bootId,
            st == null ? null : st.getBootid(),
            clock.instant(),
            config.timeouts(os == null ? null : os.getSpec()),
            phase == Phase.DRAINING ? drainAnswer(st) : null,
            null);
    if (ProxyStateMachine.needsAgentStatus(o)) {
      o = o.withAgent(askAgent());
    }
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
    } else if (step instanceof Step.Poll p) {
      String now = inst.getStatus() == null ? null : inst.getStatus().getMessage();
      if (!p.why().equals(now)) { // an unchanged note is not written again on every poll
        status.note(p.why());
      }
    } else if (step instanceof Step.Advance a) {
      status.record(a.to(), advanceMessage(o));
      if (a.to() == Phase.VERIFYING) {
        events.normal(node, NodeEvents.REBOOTED, "the node came back at " + o.osImage());
      }
    } else if (step instanceof Step.Fail f) {
      fail(
          f.kind() == Step.Failure.DRAIN ? NodeEvents.DRAIN_FAILED : NodeEvents.FAILED,
          f.message() + fellBack(o));
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
        case DRAINING -> done = o.drain().message(); // the operator drained it
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
        events.normal(
            node, NodeEvents.DRAINING, done + "; kubeos-operator drains the node (Eviction API)");
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

  /**
   * The agent's {@code status} for the decision in {@link Phase#VERIFYING}. Any failure to get it
   * is an answer too: "method not found" is an agent without boot-once trials (upstream's);
   * anything else (the socket-activated agent starting, a refused connection, an unreadable answer)
   * is asked again on the next poll.
   */
  private AgentAnswer askAgent() {
    try {
      AgentStatus s = agent.status();
      return s == null
          ? new AgentAnswer.Unreachable("the agent answered no status")
          : new AgentAnswer.Status(s);
    } catch (AgentException e) {
      if (e.code() == ErrorCode.UNSUPPORTED) {
        return new AgentAnswer.NoStatusMethod(e.getMessage());
      }
      return new AgentAnswer.Unreachable(e.getMessage() + " [" + e.code() + "]");
    } catch (RuntimeException e) { // an answer the client cannot read: ask again
      return new AgentAnswer.Unreachable(String.valueOf(e.getMessage()));
    }
  }

  /** The status message of an observed transition ({@link Step.Advance} from decide). */
  private static String advanceMessage(Observed o) {
    if (o.phase() != Phase.VERIFYING) {
      return "node came back at " + o.osImage();
    }
    if (o.agent() instanceof AgentAnswer.Status s) {
      return o.osImage()
          + " confirmed by the agent: "
          + CommitCheck.of(s.status(), o.desiredTarget()).detail();
    }
    return o.osImage() + " (the agent has no status method: verified by osImage and bootID)";
  }

  /**
   * When the node rebooted into another version than the target (its trial boot fell back), the
   * agent's own reason ({@code status.lastFailure}: e.g. the failed health check and its unit),
   * appended to the Failed message so the admin sees why without logging in to the node; empty
   * otherwise. One {@code status} call; when it fails, the message says so instead.
   */
  private String fellBack(Observed o) {
    if ((o.phase() != Phase.REBOOTING && o.phase() != Phase.VERIFYING)
        || !ProxyStateMachine.rebooted(o)
        || o.desiredTarget().equals(o.osImage())) {
      return "";
    }
    try {
      AgentStatus s = agent.status();
      return s == null || s.lastFailure() == null || s.lastFailure().isBlank()
          ? "; the agent reports no failed trial"
          : "; the agent: " + s.lastFailure();
    } catch (RuntimeException e) { // AgentException, or an answer it cannot read: still fail

      return "; the agent's status could not be read: " + e.getMessage();
    }
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
    return new Outcome.AgentError(
        e.code().action(), e.getMessage() + " [" + e.code() + "]", e.answered());
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

  /**
   * The operator's answer in {@code status.drain}, if it answers the {@code Draining} phase as
   * recorded (same {@code phasetime}); null otherwise.
   */
  static DrainAnswer drainAnswer(OSInstanceStatus st) {
    DrainReport d = st == null ? null : st.getDrain();
    if (d == null || d.getPhasetime() == null || !d.getPhasetime().equals(st.getPhasetime())) {
      return null;
    }
    if (DrainReport.DRAINED.equals(d.getResult())) {
      return new DrainAnswer(true, d.getMessage() == null ? "drained" : d.getMessage());
    }
    return new DrainAnswer(
        false,
        d.getMessage() == null ? "kubeos-operator could not drain the node" : d.getMessage());
  }
}
