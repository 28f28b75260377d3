package dev.kubeos.cluster.plan;

import dev.kubeos.cluster.plan.RolloutPlan.Skip;
import dev.kubeos.crd.OSInstanceSpec;
import dev.kubeos.crd.OSSpec;
import dev.kubeos.crd.OpsType;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Runs the planner round after round, assuming every started node succeeds after {@code nodeTime},
 * and jumping the clock to the next time-based opening when nothing can start. Used by {@code
 * kubeos plan} and by the convergence property.
 *
 * @param batches nodes started together, in order
 * @param batchStarts when each batch starts
 * @param skipped nodes never started, with the last reason the planner gave
 * @param finalPlan the plan in the last round
 */
public record Simulation(
    List<List<String>> batches,
    List<Instant> batchStarts,
    Map<String, Skip> skipped,
    RolloutPlan finalPlan) {

  /** Simulates from {@code now}; each node takes {@code nodeTime} to finish. */
  public static Simulation run(OSSpec spec, List<NodeFacts> nodes, Instant now, Duration nodeTime) {
    Map<String, NodeFacts> fleet = new LinkedHashMap<>();
    nodes.forEach(n -> fleet.put(n.name(), n));
    List<List<String>> batches = new ArrayList<>();
    List<Instant> starts = new ArrayList<>();
    Map<String, Instant> finishes = new HashMap<>();
    Instant t = now;
    RolloutPlan plan = RolloutPlanner.plan(spec, List.copyOf(fleet.values()), t);
    for (int round = 0; round < 4 * nodes.size() + 16; round++) {
      if (!plan.start().isEmpty()) {
        batches.add(plan.start());
        starts.add(t);
        for (String name : plan.start()) {
          NodeFacts n = fleet.get(name);
          fleet.put(name, n.withInstance(started(n.instance(), plan, t)));
          finishes.put(name, t.plus(nodeTime));
        }
      } else if (!plan.inProgress().isEmpty()) {
        Instant next = finishes.values().stream().min(Instant::compareTo).orElse(t);
        t = next.isAfter(t) ? next : t;
      } else if (plan.retryAt().isPresent() && plan.retryAt().get().isAfter(t)) {
        t = plan.retryAt().get();
      } else {
        break;
      }
      Instant at = t;
      for (Map.Entry<String, Instant> f : new ArrayList<>(finishes.entrySet())) {
        if (!f.getValue().isAfter(at)) {
          fleet.put(f.getKey(), finished(fleet.get(f.getKey()), plan, f.getValue()));
          finishes.remove(f.getKey());
        }
      }
      plan = RolloutPlanner.plan(spec, List.copyOf(fleet.values()), t);
    }
    Map<String, Skip> skipped = new TreeMap<>();
    for (Map.Entry<String, Skip> e : plan.skipped().entrySet()) {
      if (batches.stream().noneMatch(b -> b.contains(e.getKey()))) {
        skipped.put(e.getKey(), e.getValue());
      }
    }
    return new Simulation(List.copyOf(batches), List.copyOf(starts), skipped, plan);
  }

  private static InstanceView started(InstanceView i, RolloutPlan plan, Instant t) {
    String status = plan.operation().wireName();
    String config = i == null ? null : i.configVersion();
    return new InstanceView(status, config, "Started", plan.target(), t, null);
  }

  private static NodeFacts finished(NodeFacts n, RolloutPlan plan, Instant t) {
    InstanceView i = n.instance();
    boolean config = plan.operation() == OpsType.CONFIG;
    InstanceView done =
        new InstanceView(
            OSInstanceSpec.IDLE,
            config ? plan.target() : i.configVersion(),
            "Done",
            plan.target(),
            i.startTime(),
            t);
    NodeFacts out = n.withInstance(done);
    return config ? out : out.withOsImage(plan.target());
  }
}
