package dev.kubeos.cluster.plan;

import static dev.kubeos.crd.OSStatus.COMPLETE;
import static dev.kubeos.crd.OSStatus.HALTED;
import static dev.kubeos.crd.OSStatus.PAUSED;
import static dev.kubeos.crd.OSStatus.PROGRESSING;

import dev.kubeos.cluster.plan.RolloutPlan.Counts;
import dev.kubeos.cluster.plan.RolloutPlan.PlanCondition;
import dev.kubeos.cluster.plan.RolloutPlan.Skip;
import dev.kubeos.crd.Labels;
import dev.kubeos.crd.OSSpec;
import dev.kubeos.crd.OpsType;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The pure rollout planner: from an OS spec, the nodes (with their pods and OSInstances) and the
 * current instant, decides which nodes to start now and why every other node waits. No I/O, no
 * clock, no randomness: the same input gives the same plan. Rules: see docs/operator.md.
 */
public final class RolloutPlanner {
  private RolloutPlanner() {}

  /** Plans one step of the rollout of {@code spec} over {@code nodes} at {@code now}. */
  public static RolloutPlan plan(OSSpec spec, List<NodeFacts> nodes, Instant now) {
    List<NodeFacts> sorted = new ArrayList<>(nodes);
    sorted.sort(Comparator.comparing(NodeFacts::name));
    SpecRules r;
    try {
      r = SpecRules.of(spec);
    } catch (IllegalArgumentException e) {
      return InvalidSpec.plan(spec, sorted, e.getMessage());
    }
    return new Run(r, sorted, now).plan();
  }

  /** One planning pass; mutable scratch state lives here, not in the planner. */
  private static final class Run {
    final SpecRules r;
    final List<NodeFacts> nodes;
    final Instant now;
    final Map<String, Skip> skipped = new TreeMap<>();
    final List<String> inProgress = new ArrayList<>();
    final List<String> failedNames = new ArrayList<>();
    final List<String> unavailable = new ArrayList<>();
    final List<String> controlPlaneUnavailable = new ArrayList<>();
    final List<NodeFacts> candidates = new ArrayList<>();
    final List<NodeFacts> doneHere = new ArrayList<>();
    int selected;
    int atTarget;
    Instant lastStart;
    Instant retryAt;
    SkipReason gate;
    String gateMessage;
    String haltReason;
    String haltMessage;

    Run(SpecRules r, List<NodeFacts> nodes, Instant now) {
      this.r = r;
      this.nodes = nodes;
      this.now = now;
    }

    RolloutPlan plan() {
      nodes.forEach(this::classify);
      applyGates();
      List<String> start = choose();
      return new RolloutPlan(
          r.ops(),
          r.target(),
          List.copyOf(start),
          List.copyOf(inProgress),
          skipped,
          conditions(start),
          new Counts(selected, atTarget, inProgress.size(), failedNames.size()),
          Optional.ofNullable(retryAt));
    }

    void classify(NodeFacts n) {
      boolean assigned = n.instance() != null && n.instance().assigned();
      boolean down = !n.ready() || n.unschedulable() || assigned;
      if (n.controlPlane() && down) {
        controlPlaneUnavailable.add(n.name());
      }
      if (!r.selects(n.labels())) {
        String value = n.labels().get(Labels.NODE_SELECTOR);
        skip(
            n,
            SkipReason.OUTSIDE_SELECTOR,
            "not selected: spec.nodeselector is '"
                + r.selector()
                + "', node label "
                + Labels.NODE_SELECTOR
                + (value == null ? " is not set" : " is '" + value + "'"));
        return;
      }
      if (n.controlPlane() && !r.controlPlane()) {
        skip(
            n,
            SkipReason.CONTROL_PLANE_EXCLUDED,
            "control-plane node: set spec.controlplane: true to include it");
        return;
      }
      selected++;
      if (down) {
        unavailable.add(n.name());
      }
      if (r.workedOn(n) && n.instance().startTime() != null) {
        Instant s = n.instance().startTime();
        lastStart = lastStart == null || s.isAfter(lastStart) ? s : lastStart;
      }
      if (r.failed(n)) {
        failedNames.add(n.name());
        String why = n.instance().phase() == null ? "" : ": " + n.instance().phase();
        skip(n, SkipReason.FAILED, "failed at " + r.target() + why + "; see its OSInstance");
      } else if (assigned) {
        inProgress.add(n.name());
      } else if (r.atTarget(n)) {
        atTarget++;
        if (r.workedOn(n) && n.instance().endTime() != null) {
          doneHere.add(n);
        }
        skip(n, SkipReason.AT_TARGET, "already at " + r.target());
      } else if (r.doneButNotReported(n)) {
        skip(
            n,
            SkipReason.AWAITING_NODE_REPORT,
            "its proxy reported "
                + r.target()
                + " done; waiting for the Node to report it (osImage is '"
                + n.osImage()
                + "')");
      } else if (!n.ready()) {
        skip(n, SkipReason.NOT_READY, "node is NotReady; it counts against maxunavailable");
      } else if (n.unschedulable()) {
        skip(n, SkipReason.CORDONED, "cordoned by someone else; it counts against maxunavailable");
      } else if (n.instance() == null) {
        skip(n, SkipReason.NO_OSINSTANCE, "no OSInstance: the node's proxy has not registered");
      } else {
        candidates.add(n);
      }
    }

    void applyGates() {
      if (failedNames.size() >= r.failureBudget()) {
        halt(
            "FailureBudgetExhausted",
            failedNames.size()
                + " selected nodes failed (spec.failurebudget is "
                + r.failureBudget()
                + "): "
                + String.join(", ", failedNames)
                + "; fix them, then raise the budget or reset their OSInstance status");
        return;
      }
      Canary canary = new Canary(r, doneHere, inProgress.size() + failedNames.size(), now);
      if (!canary.passed() && !failedNames.isEmpty()) {
        halt(
            "CanaryFailed",
            "canary node(s) failed: " + String.join(", ", failedNames) + "; the rest stay as is");
        return;
      }
      if (r.paused()) {
        wait(SkipReason.PAUSED, "rollout paused (spec.pause is true)", null);
      } else if (r.window().isPresent() && !r.window().get().contains(now, r.zone())) {
        Optional<Instant> next = r.window().get().nextOpening(now, r.zone());
        wait(
            SkipReason.OUTSIDE_TIME_WINDOW,
            "outside spec.timewindow ("
                + r.window().get()
                + " "
                + r.zone()
                + ")"
                + next.map(t -> "; next opening " + t).orElse("; the window has passed"),
            next.orElse(null));
      } else if (lastStart != null && now.isBefore(lastStart.plus(r.interval()))) {
        Instant until = lastStart.plus(r.interval());
        wait(SkipReason.TIME_INTERVAL, "spec.timeinterval: next start at " + until, until);
      } else if (canary.waitMessage() != null) {
        wait(SkipReason.CANARY, canary.waitMessage(), canary.soakEnd());
      }
      canaryCap = canary.cap();
    }

    int canaryCap = Integer.MAX_VALUE;

    List<String> choose() {
      List<String> start = new ArrayList<>();
      int slots = r.maxUnavailable() - unavailable.size();
      if (r.serial()) {
        slots = Math.min(slots, 1 - inProgress.size());
      }
      slots = Math.min(slots, canaryCap);
      candidates.sort(Comparator.comparing(NodeFacts::controlPlane).thenComparing(NodeFacts::name));
      Capacity capacity = null;
      boolean controlPlaneChosen = false;
      for (NodeFacts c : candidates) {
        if (gate != null) {
          skip(c, gate, gateMessage);
        } else if (slots <= 0) {
          skip(c, SkipReason.MAX_UNAVAILABLE, slotsMessage());
        } else if (c.controlPlane() && (controlPlaneChosen || !controlPlaneUnavailable.isEmpty())) {
          List<String> busy = new ArrayList<>(controlPlaneUnavailable);
          busy.addAll(controlPlaneChosen ? List.of(lastControlPlane(start)) : List.of());
          skip(
              c,
              SkipReason.CONTROL_PLANE_BUSY,
              "control-plane nodes go one at a time; unavailable now: " + String.join(", ", busy));
        } else {
          if (capacity == null) {
            capacity = new Capacity(nodes, Set.copyOf(inProgress));
          }
          // config applies settings in place; only upgrade and rollback drain and reboot
          Optional<String> refusal =
              r.ops() == OpsType.CONFIG ? Optional.empty() : capacity.drain(c);
          if (refusal.isPresent()) {
            skip(c, SkipReason.INSUFFICIENT_CAPACITY, refusal.get());
          } else {
            start.add(c.name());
            slots--;
            controlPlaneChosen |= c.controlPlane();
          }
        }
      }
      return start;
    }

    private String lastControlPlane(List<String> start) {
      Set<String> cps = new HashSet<>();
      nodes.stream().filter(NodeFacts::controlPlane).forEach(n -> cps.add(n.name()));
      return start.stream().filter(cps::contains).reduce((a, b) -> b).orElse("");
    }

    private String slotsMessage() {
      if (r.serial() && !inProgress.isEmpty()) {
        return "serial mode: waiting for " + String.join(", ", inProgress);
      }
      return "maxunavailable is "
          + r.maxUnavailable()
          + (unavailable.isEmpty() ? "" : "; unavailable now: " + String.join(", ", unavailable))
          + (canaryCap < Integer.MAX_VALUE ? "; canary nodes first" : "");
    }

    List<PlanCondition> conditions(List<String> start) {
      boolean halted = haltReason != null;
      boolean complete = !halted && atTarget == selected;
      String summary =
          atTarget
              + " of "
              + selected
              + " selected nodes at "
              + r.target()
              + ", "
              + inProgress.size()
              + " in progress, "
              + failedNames.size()
              + " failed";
      String progressReason;
      if (!start.isEmpty()) {
        progressReason = "Started";
        summary += "; starting " + String.join(", ", start);
      } else if (!inProgress.isEmpty()) {
        progressReason = "WaitingForNodes";
      } else {
        progressReason = firstCandidateReason();
      }
      return List.of(
          new PlanCondition(PROGRESSING, !halted && !complete, progressReason, summary),
          new PlanCondition(
              COMPLETE,
              complete,
              selected == 0 ? "NoNodesSelected" : complete ? "AllNodesAtTarget" : "NotYet",
              summary),
          new PlanCondition(
              PAUSED,
              r.paused(),
              r.paused() ? "SpecPause" : "NotPaused",
              r.paused() ? "spec.pause is true: no new node starts" : ""),
          new PlanCondition(
              HALTED, halted, halted ? haltReason : "NotHalted", halted ? haltMessage : ""));
    }

    private String firstCandidateReason() {
      for (NodeFacts c : candidates) {
        Skip s = skipped.get(c.name());
        if (s != null) {
          return "Waiting:" + s.reason().name();
        }
      }
      return "RemainingNodesUnavailable";
    }

    private void halt(String reason, String message) {
      haltReason = reason;
      haltMessage = message;
      gate = SkipReason.HALTED;
      gateMessage = "rollout halted: " + message;
    }

    private void wait(SkipReason reason, String message, Instant until) {
      gate = reason;
      gateMessage = message;
      retryAt = until;
    }

    private void skip(NodeFacts n, SkipReason reason, String message) {
      skipped.put(n.name(), new Skip(reason, message));
    }
  }
}
