package dev.kubeos.cluster.operator;

import dev.kubeos.cluster.plan.RolloutPlan;
import dev.kubeos.crd.OSStatus;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** Builds {@code OS.status} from a plan (pure; keeps transition times of unchanged conditions). */
public final class Statuses {
  /** Reason of the Halted condition of an OS rejected by {@code OsConflicts}. */
  public static final String CONFLICT = "Conflict";

  /**
   * Reason of the Halted condition of an OS whose {@code osinstancenamespace} is not where the
   * proxies register their nodes.
   */
  public static final String INSTANCE_NAMESPACE = "InstanceNamespace";

  private Statuses() {}

  /** The status that describes {@code plan} for the spec of {@code generation}. */
  public static OSStatus of(RolloutPlan plan, OSStatus old, Long generation, Instant now) {
    OSStatus s = new OSStatus();
    List<Condition> conditions = new ArrayList<>();
    for (RolloutPlan.PlanCondition c : plan.conditions()) {
      conditions.add(
          condition(old, c.type(), c.status(), c.reason(), c.message(), generation, now));
    }
    s.setConditions(conditions);
    s.setSelected(plan.counts().selected());
    s.setAtTarget(plan.counts().atTarget());
    s.setInProgress(plan.counts().inProgress() + plan.start().size());
    s.setFailed(plan.counts().failed());
    s.setObservedGeneration(generation);
    return s;
  }

  /** The status of an OS rejected because an earlier one selects the same nodes. */
  public static OSStatus conflict(String message, OSStatus old, Long generation, Instant now) {
    return rejected(CONFLICT, message, old, generation, now);
  }

  /** The status of an OS refused whole: Halted with {@code reason} and {@code message}. */
  public static OSStatus rejected(
      String reason, String message, OSStatus old, Long generation, Instant now) {
    OSStatus s = new OSStatus();
    List<Condition> conditions = new ArrayList<>();
    for (String type :
        List.of(OSStatus.PROGRESSING, OSStatus.COMPLETE, OSStatus.PAUSED, OSStatus.HALTED)) {
      boolean halted = type.equals(OSStatus.HALTED);
      conditions.add(
          condition(
              old,
              type,
              halted,
              halted ? reason : "Rejected",
              halted ? message : "rejected: see the Halted condition",
              generation,
              now));
    }
    s.setConditions(conditions);
    s.setObservedGeneration(generation);
    return s;
  }

  /** Whether the condition of {@code type} is true in {@code status}. */
  public static boolean isTrue(OSStatus status, String type) {
    Condition c = find(status, type);
    return c != null && "True".equals(c.getStatus());
  }

  /** Whether two statuses differ in anything but transition times. */
  public static boolean differ(OSStatus a, OSStatus b) {
    if (a == null || b == null) {
      return a != b;
    }
    if (a.getSelected() != b.getSelected()
        || a.getAtTarget() != b.getAtTarget()
        || a.getInProgress() != b.getInProgress()
        || a.getFailed() != b.getFailed()
        || !Objects.equals(a.getObservedGeneration(), b.getObservedGeneration())
        || a.getConditions().size() != b.getConditions().size()) {
      return true;
    }
    for (Condition c : a.getConditions()) {
      Condition d = find(b, c.getType());
      if (d == null
          || !Objects.equals(c.getStatus(), d.getStatus())
          || !Objects.equals(c.getReason(), d.getReason())
          || !Objects.equals(c.getMessage(), d.getMessage())
          || !Objects.equals(c.getObservedGeneration(), d.getObservedGeneration())) {
        return true;
      }
    }
    return false;
  }

  private static Condition condition(
      OSStatus old,
      String type,
      boolean status,
      String reason,
      String message,
      Long generation,
      Instant now) {
    String value = status ? "True" : "False";
    Condition before = find(old, type);
    String since =
        before != null && value.equals(before.getStatus()) && before.getLastTransitionTime() != null
            ? before.getLastTransitionTime()
            : now.toString();
    return new ConditionBuilder()
        .withType(type)
        .withStatus(value)
        .withReason(reason)
        .withMessage(message)
        .withObservedGeneration(generation)
        .withLastTransitionTime(since)
        .build();
  }

  private static Condition find(OSStatus s, String type) {
    if (s == null || s.getConditions() == null) {
      return null;
    }
    return s.getConditions().stream()
        .filter(c -> type.equals(c.getType()))
        .findFirst()
        .orElse(null);
  }
}
