package dev.kubeos.cluster.plan;

import static dev.kubeos.crd.OSStatus.COMPLETE;
import static dev.kubeos.crd.OSStatus.HALTED;
import static dev.kubeos.crd.OSStatus.PAUSED;
import static dev.kubeos.crd.OSStatus.PROGRESSING;

import dev.kubeos.cluster.plan.RolloutPlan.Counts;
import dev.kubeos.cluster.plan.RolloutPlan.PlanCondition;
import dev.kubeos.cluster.plan.RolloutPlan.Skip;
import dev.kubeos.crd.OSSpec;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The plan for a spec the schema could not reject: Halted, nothing started, every node told why.
 */
final class InvalidSpec {
  private InvalidSpec() {}

  static RolloutPlan plan(OSSpec spec, List<NodeFacts> nodes, String message) {
    Map<String, Skip> skipped = new TreeMap<>();
    for (NodeFacts n : nodes) {
      skipped.put(n.name(), new Skip(SkipReason.INVALID_SPEC, "rollout halted: " + message));
    }
    List<PlanCondition> conditions =
        List.of(
            new PlanCondition(PROGRESSING, false, "InvalidSpec", message),
            new PlanCondition(COMPLETE, false, "InvalidSpec", message),
            new PlanCondition(PAUSED, spec != null && spec.isPause(), "InvalidSpec", message),
            new PlanCondition(HALTED, true, "InvalidSpec", message));
    return new RolloutPlan(
        spec == null ? null : spec.getOpstype(),
        null,
        List.of(),
        List.of(),
        skipped,
        conditions,
        new Counts(0, 0, 0, 0),
        Optional.empty());
  }
}
