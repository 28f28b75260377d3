package dev.kubeos.cluster.plan;

import dev.kubeos.crd.OpsType;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the planner decided for one instant.
 *
 * @param operation what started nodes are asked to do
 * @param target OS version (upgrade, rollback) or sysconfigs version (config)
 * @param start nodes to start now, in order
 * @param inProgress selected nodes already working on the target: wait for them
 * @param skipped every other node, sorted by name, with the reason it is not started now
 * @param conditions Progressing, Complete, Paused, Halted (always all four)
 * @param counts counts for {@code OS.status}
 * @param retryAt earliest instant at which a time-based wait ends (time window, interval, soak)
 */
public record RolloutPlan(
    OpsType operation,
    String target,
    List<String> start,
    List<String> inProgress,
    Map<String, Skip> skipped,
    List<PlanCondition> conditions,
    Counts counts,
    Optional<Instant> retryAt) {

  /** Why one node is not started, in words a platform engineer can act on. */
  public record Skip(SkipReason reason, String message) {}

  /** One condition for {@code OS.status.conditions}. */
  public record PlanCondition(String type, boolean status, String reason, String message) {}

  /** Counts for {@code OS.status}. */
  public record Counts(int selected, int atTarget, int inProgress, int failed) {}

  /** The condition of the given type (always present). */
  public PlanCondition condition(String type) {
    return conditions.stream().filter(c -> c.type().equals(type)).findFirst().orElseThrow();
  }

  /** Whether the condition of the given type is true. */
  public boolean is(String type) {
    return condition(type).status();
  }
}
