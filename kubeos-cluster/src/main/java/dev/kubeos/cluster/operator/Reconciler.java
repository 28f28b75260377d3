package dev.kubeos.cluster.operator;

import dev.kubeos.cluster.plan.NodeFacts;
import dev.kubeos.cluster.plan.NodeFactsReader;
import dev.kubeos.cluster.plan.OsConflicts;
import dev.kubeos.cluster.plan.RolloutPlan;
import dev.kubeos.cluster.plan.RolloutPlanner;
import dev.kubeos.cluster.plan.SkipReason;
import dev.kubeos.cluster.proxy.model.Phase;
import dev.kubeos.cluster.proxy.model.ProxyOperation;
import dev.kubeos.crd.DrainReport;
import dev.kubeos.crd.Labels;
import dev.kubeos.crd.NamespacedName;
import dev.kubeos.crd.Namespaces;
import dev.kubeos.crd.OS;
import dev.kubeos.crd.OSInstance;
import dev.kubeos.crd.OSInstanceSpec;
import dev.kubeos.crd.OSInstanceStatus;
import dev.kubeos.crd.OSSpec;
import dev.kubeos.crd.OSStatus;
import dev.kubeos.crd.OpsType;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.logging.Logger;

/**
 * One reconcile pass: read the caches, plan every OS resource, apply the plan, report. The
 * decisions are the planner's; this class only turns a {@link RolloutPlan} into API writes:
 *
 * <ol>
 *   <li>reject OS resources that overlap an earlier one ({@link OsConflicts});
 *   <li>for each node of the OS whose proxy reported its attempt over ({@code Done} or {@code
 *       Failed} at the assigned target): hand it back, {@code spec.nodestatus: idle} ({@link
 *       #handBackDue}; only the operator writes the spec);
 *   <li>for each node of the OS whose proxy cordoned it and waits in {@code Draining}: one round of
 *       its drain ({@link NodeDrains}), never waiting for a pod to go;
 *   <li>for each started node: write the OSInstance spec (the commit point), then mark the node
 *       (upstream's upgrading/configuring label, the cluster-autoscaler scale-down-disabled
 *       annotation and {@link #ROLLOUT} naming the OS);
 *   <li>for each marked node that is no longer in progress: record completion or failure, unmark;
 *   <li>write {@code OS.status} when it changed, with Events for halts and completion.
 * </ol>
 *
 * Everything it needs to resume is in the cluster (OSInstance specs, node marks), so a restarted or
 * newly elected operator continues without repeating or skipping a node.
 */
public final class Reconciler {
  /** Tells the cluster autoscaler not to remove a node under upgrade. */
  public static final String SCALE_DOWN_DISABLED =
      "cluster-autoscaler.kubernetes.io/scale-down-disabled";

  /** Node annotation: the OS ({@code namespace/name}) whose rollout started the node. */
  public static final String ROLLOUT = "upgrade.openeuler.org/rollout";

  private static final Logger LOG = Logger.getLogger(Reconciler.class.getName());
  private final ClusterCache cache;
  private final ClusterWriter writer;
  private final OperatorMetrics metrics;
  private final Clock clock;
  private final String instanceNamespace;
  private final NodeDrains drains;

  /** Nodes a pass found draining (their drains are kept, the others forgotten). */
  private final Set<String> draining = new HashSet<>();

  /**
   * @param instanceNamespace where the proxies register the OSInstances ({@link
   *     OperatorConfig#instanceNamespace})
   * @param drains the drains the operator does for the proxies
   */
  public Reconciler(
      ClusterCache cache,
      ClusterWriter writer,
      OperatorMetrics metrics,
      Clock clock,
      String instanceNamespace,
      NodeDrains drains) {
    this.cache = cache;
    this.writer = writer;
    this.metrics = metrics;
    this.clock = clock;
    this.instanceNamespace = instanceNamespace;
    this.drains = drains;
  }

  /** Runs one pass; returns the earliest instant a time-based wait of any plan ends. */
  public Optional<Instant> reconcile() {
    Instant now = clock.instant();
    List<OS> all = new ArrayList<>(cache.osResources());
    all.removeIf(o -> o.getMetadata().getDeletionTimestamp() != null);
    all.sort(Comparator.comparing(Reconciler::key));
    Map<String, String> rejected = OsConflicts.rejected(all);
    Set<String> active = new HashSet<>();
    draining.clear();
    Instant next = null;
    for (OS os : all) {
      if (rejected.containsKey(key(os))) {
        reject(os, Statuses.CONFLICT, rejected.get(key(os)), now);
        continue;
      }
      if (!instanceNamespace.equals(os.instanceNamespace())) {
        reject(os, Statuses.INSTANCE_NAMESPACE, wrongNamespace(os), now);
        continue;
      }
      active.add(key(os));
      Optional<Instant> retry = reconcile(os, cache.clusterItems(), now);
      if (retry.isPresent() && (next == null || retry.get().isBefore(next))) {
        next = retry.get();
      }
    }
    drains.retain(draining);
    releaseOrphans(active);
    versions();
    metrics.reconciled(Duration.between(now, clock.instant()));
    return Optional.ofNullable(next);
  }

  private Optional<Instant> reconcile(OS os, List<HasMetadata> items, Instant now) {
    OSSpec spec = os.getSpec();
    String ns = os.instanceNamespace();
    Instant drainNext = null;
    boolean wrote = false;
    for (HasMetadata i : items) {
      if (!(i instanceof OSInstance inst)
          || !ns.equals(i.getMetadata().getNamespace())
          || !names(inst, os)) {
        continue;
      }
      if (handBackDue(inst, os)) {
        cache.wrote(inst, writer.handBack(inst));
        wrote = true;
        LOG.info(() -> key(os) + ": " + inst.nodeName() + " handed back (" + phase(inst) + ")");
      } else if (NodeDrains.wanted(inst)) {
        draining.add(inst.nodeName());
        NodeDrains.Round r = drains.round(inst, spec, podsOn(items, inst.nodeName()), now);
        if (r.written() != null) {
          cache.wrote(inst, r.written());
          wrote = true;
          if (DrainReport.FAILED.equals(r.report().getResult())) {
            writer.event(
                os,
                "Warning",
                "DrainFailed",
                inst.nodeName() + ": " + r.report().getMessage(),
                now);
          }
        }
        if (r.next() != null && (drainNext == null || r.next().isBefore(drainNext))) {
          drainNext = r.next();
        }
      }
    }
    if (wrote) {
      items = cache.clusterItems();
    }
    List<NodeFacts> views = NodeFactsReader.of(items, ns);
    RolloutPlan plan = RolloutPlanner.plan(spec, views, now);
    Map<String, OSInstance> instances = new HashMap<>();
    for (HasMetadata i : items) {
      if (i instanceof OSInstance inst && ns.equals(i.getMetadata().getNamespace())) {
        instances.put(inst.nodeName(), inst);
      }
    }
    start(os, plan, instances, now);
    Set<String> busy = new HashSet<>(plan.inProgress());
    busy.addAll(plan.start());
    for (String n : plan.inProgress()) {
      if (!marked(cache.node(n), os)) {
        mark(n, os, plan.operation()); // repairs a crash between the OSInstance and node writes
      }
    }
    for (NodeFacts v : views) {
      if (!busy.contains(v.name())
          && !awaitingNodeReport(plan, v.name())
          && marked(cache.node(v.name()), os)) {
        finish(os, plan, v, now);
      }
    }
    status(os, plan, views, now);
    metrics.nodes(key(os), states(plan));
    Optional<Instant> retry = plan.retryAt();
    if (drainNext != null && (retry.isEmpty() || drainNext.isBefore(retry.get()))) {
      return Optional.of(drainNext);
    }
    return retry;
  }

  /**
   * Whether the operator hands {@code i} back now: it is assigned an operation by {@code os}, and
   * its proxy reported the attempt at that assignment's target over ({@code Done} or {@code
   * Failed}). A report about an earlier target never releases a newer assignment.
   */
  public static boolean handBackDue(OSInstance i, OS os) {
    OSInstanceSpec spec = i.getSpec();
    OSInstanceStatus st = i.getStatus();
    if (spec == null || st == null || !names(i, os)) {
      return false;
    }
    ProxyOperation op = ProxyOperation.of(spec.getNodestatus());
    if (op == null || os.getSpec() == null) {
      return false;
    }
    Phase phase;
    try {
      phase = Phase.parse(st.getPhase());
    } catch (IllegalArgumentException e) {
      return false;
    }
    String target = op.target(spec, os.getSpec());
    return phase.terminal() && target != null && target.equals(st.getTarget());
  }

  /** Whether the assignment of {@code i} names {@code os}. */
  static boolean names(OSInstance i, OS os) {
    NamespacedName nn = i.getSpec() == null ? null : i.getSpec().getNamespacedname();
    return nn != null
        && os.getMetadata().getName().equals(nn.getName())
        && Namespaces.orDefault(os.getMetadata().getNamespace())
            .equals(Namespaces.orDefault(nn.getNamespace()));
  }

  private static String phase(OSInstance i) {
    return i.getStatus() == null ? null : i.getStatus().getPhase();
  }

  private static List<Pod> podsOn(List<HasMetadata> items, String node) {
    List<Pod> pods = new ArrayList<>();
    for (HasMetadata i : items) {
      if (i instanceof Pod p && p.getSpec() != null && node.equals(p.getSpec().getNodeName())) {
        pods.add(p);
      }
    }
    return pods;
  }

  private void start(OS os, RolloutPlan plan, Map<String, OSInstance> instances, Instant now) {
    if (plan.start().isEmpty()) {
      return;
    }
    OSInstanceSpec spec =
        OSInstanceSpec.assignment(
            plan.operation().wireName(),
            new NamespacedName(
                os.getMetadata().getName(), Namespaces.orDefault(os.getMetadata().getNamespace())),
            os.getSpec().getSysconfigs(),
            plan.operation() == OpsType.CONFIG ? null : os.getSpec().getUpgradeconfigs());
    for (String n : plan.start()) {
      OSInstance before = instances.get(n);
      cache.wrote(before, writer.assign(before, spec));
      mark(n, os, plan.operation());
    }
    metrics.nodesStarted(key(os), plan.start().size());
    writer.event(
        os,
        "Normal",
        "NodesStarted",
        plan.operation().wireName() + " to " + plan.target() + " started on " + plan.start(),
        now);
    LOG.info(() -> key(os) + ": started " + plan.operation().wireName() + " on " + plan.start());
  }

  private void mark(String node, OS os, OpsType op) {
    String label = op == OpsType.CONFIG ? Labels.CONFIGURING : Labels.UPGRADING;
    Node before = cache.node(node);
    if (before == null) {
      return;
    }
    Map<String, String> annotations = Map.of(SCALE_DOWN_DISABLED, "true", ROLLOUT, key(os));
    cache.wrote(before, writer.markNode(before, Map.of(label, ""), annotations));
  }

  private void unmark(String node) {
    Node before = cache.node(node);
    if (before == null) {
      return;
    }
    Node after =
        writer.unmarkNode(
            before,
            List.of(Labels.UPGRADING, Labels.CONFIGURING),
            List.of(SCALE_DOWN_DISABLED, ROLLOUT));
    cache.wrote(before, after);
  }

  /**
   * A node handed back whose proxy reported the target done while the Node's osImage in the cache
   * still lags: not finished (nor released) yet; the next pass, with the Node's report, completes
   * it.
   */
  private static boolean awaitingNodeReport(RolloutPlan plan, String node) {
    RolloutPlan.Skip skip = plan.skipped().get(node);
    return skip != null && skip.reason() == SkipReason.AWAITING_NODE_REPORT;
  }

  private void finish(OS os, RolloutPlan plan, NodeFacts v, Instant now) {
    RolloutPlan.Skip skip = plan.skipped().get(v.name());
    SkipReason why = skip == null ? null : skip.reason();
    if (why == SkipReason.FAILED) {
      String msg = v.instance() == null ? null : v.instance().phase();
      metrics.nodeFailed(key(os));
      writer.event(os, "Warning", "NodeFailed", v.name() + ": " + skip.message(), now);
      LOG.warning(() -> key(os) + ": node " + v.name() + " failed (" + msg + ")");
    } else if (why == SkipReason.AT_TARGET) {
      if (v.instance() != null && v.instance().startTime() != null) {
        Instant end = v.instance().endTime() == null ? now : v.instance().endTime();
        metrics.nodeDone(
            key(os), plan.operation().wireName(), Duration.between(v.instance().startTime(), end));
      }
      writer.event(os, "Normal", "NodeCompleted", v.name() + " reached " + plan.target(), now);
    } else {
      writer.event(
          os,
          "Warning",
          "NodeReleased",
          v.name() + " is idle without reaching " + plan.target() + "; it will be planned again",
          now);
    }
    unmark(v.name());
  }

  private void status(OS os, RolloutPlan plan, List<NodeFacts> views, Instant now) {
    OSStatus old = os.getStatus();
    OSStatus next = Statuses.of(plan, old, os.getMetadata().getGeneration(), now);
    if (!Statuses.differ(old, next)) {
      return;
    }
    cache.wrote(os, writer.status(os, next));
    boolean halted = Statuses.isTrue(next, OSStatus.HALTED);
    if (halted && !Statuses.isTrue(old, OSStatus.HALTED)) {
      RolloutPlan.PlanCondition c = plan.condition(OSStatus.HALTED);
      writer.event(os, "Warning", "Halted", c.reason() + ": " + c.message(), now);
    }
    if (Statuses.isTrue(next, OSStatus.COMPLETE) && !Statuses.isTrue(old, OSStatus.COMPLETE)) {
      views.stream()
          .filter(v -> v.instance() != null && plan.target().equals(v.instance().target()))
          .map(v -> v.instance().startTime())
          .filter(t -> t != null)
          .min(Comparator.naturalOrder())
          .ifPresent(first -> metrics.rolloutComplete(key(os), Duration.between(first, now)));
      writer.event(os, "Normal", "Complete", "every selected node is at " + plan.target(), now);
    }
  }

  private void reject(OS os, String reason, String message, Instant now) {
    OSStatus old = os.getStatus();
    OSStatus next = Statuses.rejected(reason, message, old, os.getMetadata().getGeneration(), now);
    if (Statuses.differ(old, next)) {
      cache.wrote(os, writer.status(os, next));
      writer.event(os, "Warning", reason, message, now);
    }
  }

  private String wrongNamespace(OS os) {
    return "spec.osinstancenamespace '"
        + os.instanceNamespace()
        + "' is not the namespace the proxies register their nodes in ('"
        + instanceNamespace
        + "'): no node would ever have an OSInstance there. Remove osinstancenamespace, or set it"
        + " to '"
        + instanceNamespace
        + "' (run the proxies with --namespace and the operator with --osinstance-namespace"
        + " to use another)";
  }

  /** Unmarks nodes started by an OS resource that is gone or rejected, once they are idle. */
  private void releaseOrphans(Set<String> active) {
    Set<String> busy = new HashSet<>();
    for (HasMetadata i : cache.clusterItems()) {
      if (i instanceof OSInstance o && o.getSpec() != null && !o.getSpec().idle()) {
        busy.add(o.nodeName());
      }
    }
    for (HasMetadata i : cache.clusterItems()) {
      if (i instanceof Node n) {
        String owner = annotation(n, ROLLOUT);
        if (owner != null && !active.contains(owner) && !busy.contains(n.getMetadata().getName())) {
          unmark(n.getMetadata().getName());
        }
      }
    }
  }

  private void versions() {
    Map<String, Integer> counts = new TreeMap<>();
    for (HasMetadata i : cache.clusterItems()) {
      if (i instanceof Node n) {
        String v =
            n.getStatus() == null || n.getStatus().getNodeInfo() == null
                ? null
                : n.getStatus().getNodeInfo().getOsImage();
        counts.merge(v == null ? "unknown" : v, 1, Integer::sum);
      }
    }
    metrics.versions(counts);
  }

  /** Nodes per state for the metrics: in_progress, or the lower-case skip reason. */
  static Map<String, Integer> states(RolloutPlan plan) {
    Map<String, Integer> m = new TreeMap<>();
    m.put("in_progress", plan.inProgress().size() + plan.start().size());
    for (RolloutPlan.Skip s : plan.skipped().values()) {
      if (s.reason() != SkipReason.OUTSIDE_SELECTOR
          && s.reason() != SkipReason.CONTROL_PLANE_EXCLUDED) {
        m.merge(s.reason().name().toLowerCase(java.util.Locale.ROOT), 1, Integer::sum);
      }
    }
    return m;
  }

  private static boolean marked(Node n, OS os) {
    return n != null && key(os).equals(annotation(n, ROLLOUT));
  }

  private static String annotation(Node n, String key) {
    Map<String, String> a = n.getMetadata().getAnnotations();
    return a == null ? null : a.get(key);
  }

  static String key(OS os) {
    return os.key();
  }
}
