package dev.kubeos.cluster.operator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubeos.cluster.plan.RolloutPlan;
import dev.kubeos.cluster.plan.RolloutPlan.PlanCondition;
import dev.kubeos.crd.OSStatus;
import dev.kubeos.crd.OpsType;
import io.fabric8.kubernetes.api.model.Condition;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class StatusesTest {
  private static final Instant T1 = Instant.parse("2026-03-02T10:00:00Z");
  private static final Instant T2 = Instant.parse("2026-03-02T10:05:00Z");

  static RolloutPlan plan(boolean halted, List<String> start, int inProgress) {
    return new RolloutPlan(
        OpsType.UPGRADE,
        "KubeOS v2",
        start,
        List.of(),
        Map.of(),
        List.of(
            new PlanCondition("Progressing", !halted, halted ? "Halted" : "Started", "m"),
            new PlanCondition("Complete", false, "NotComplete", "m"),
            new PlanCondition("Paused", false, "NotPaused", "m"),
            new PlanCondition("Halted", halted, halted ? "FailureBudgetExhausted" : "None", "h")),
        new RolloutPlan.Counts(10, 3, inProgress, 1),
        Optional.empty());
  }

  @Test
  void copiesCountsAndCountsStartedNodesAsInProgress() {
    OSStatus s = Statuses.of(plan(false, List.of("a", "b"), 1), null, 4L, T1);
    assertThat(s.getSelected()).isEqualTo(10);
    assertThat(s.getAtTarget()).isEqualTo(3);
    assertThat(s.getInProgress()).isEqualTo(3);
    assertThat(s.getFailed()).isEqualTo(1);
    assertThat(s.getObservedGeneration()).isEqualTo(4L);
    assertThat(s.getConditions()).extracting(Condition::getObservedGeneration).containsOnly(4L);
  }

  @Test
  void keepsTransitionTimeWhileStatusStaysAndMovesItOnChange() {
    OSStatus first = Statuses.of(plan(false, List.of(), 0), null, 1L, T1);
    OSStatus same = Statuses.of(plan(false, List.of(), 0), first, 1L, T2);
    assertThat(Statuses.differ(first, same)).isFalse();
    assertThat(same.getConditions())
        .extracting(Condition::getLastTransitionTime)
        .containsOnly(T1.toString());
    OSStatus halted = Statuses.of(plan(true, List.of(), 0), first, 1L, T2);
    assertThat(Statuses.differ(first, halted)).isTrue();
    assertThat(Statuses.isTrue(halted, "Halted")).isTrue();
    Condition h =
        halted.getConditions().stream()
            .filter(c -> c.getType().equals("Halted"))
            .findFirst()
            .orElseThrow();
    assertThat(h.getLastTransitionTime()).isEqualTo(T2.toString());
    assertThat(h.getReason()).isEqualTo("FailureBudgetExhausted");
    Condition paused =
        halted.getConditions().stream()
            .filter(c -> c.getType().equals("Paused"))
            .findFirst()
            .orElseThrow();
    assertThat(paused.getLastTransitionTime()).isEqualTo(T1.toString());
  }

  @Test
  void aNewGenerationIsAChange() {
    OSStatus a = Statuses.of(plan(false, List.of(), 0), null, 1L, T1);
    assertThat(Statuses.differ(a, Statuses.of(plan(false, List.of(), 0), a, 2L, T1))).isTrue();
  }

  @Test
  void conflictHaltsWithTheMessageAndNothingElseIsTrue() {
    OSStatus s = Statuses.conflict("overlaps with OS default/a", null, 3L, T1);
    assertThat(Statuses.isTrue(s, "Halted")).isTrue();
    assertThat(s.getConditions()).filteredOn(c -> "True".equals(c.getStatus())).hasSize(1);
    assertThat(s.getConditions())
        .filteredOn(c -> c.getType().equals("Halted"))
        .extracting(Condition::getReason, Condition::getMessage)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("Conflict", "overlaps with OS default/a"));
  }

  @Test
  void aRefusedOsHaltsWithItsOwnReason() {
    OSStatus s = Statuses.rejected(Statuses.INSTANCE_NAMESPACE, "not default", null, 1L, T1);
    assertThat(s.getConditions())
        .filteredOn(c -> "True".equals(c.getStatus()))
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.getType()).isEqualTo("Halted");
              assertThat(c.getReason()).isEqualTo("InstanceNamespace");
              assertThat(c.getMessage()).isEqualTo("not default");
            });
  }
}
