package dev.kubeos.cluster.plan;

import static dev.kubeos.cluster.plan.Fleet.GI;
import static dev.kubeos.cluster.plan.Fleet.NOW;
import static dev.kubeos.cluster.plan.Fleet.node;
import static dev.kubeos.cluster.plan.Fleet.nodes;
import static dev.kubeos.cluster.plan.Fleet.upgrade;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kubeos.crd.ExecutionMode;
import dev.kubeos.crd.OSSpec;
import dev.kubeos.crd.OSStatus;
import dev.kubeos.crd.OpsType;
import dev.kubeos.crd.SysConfigs;
import dev.kubeos.crd.TimeWindow;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RolloutPlannerTest {
  static final String SEL = "upgrade.openeuler.org/node-selector";

  @ParameterizedTest(name = "nodeselector {0} picks {1}")
  @CsvSource({
    "no-label, plain",
    "all-label, 'edge-1,gpu-1,plain'",
    "gpu, gpu-1",
    "none-such, ''",
  })
  void nodeSelectorFollowsUpstream(String selector, String expected) {
    OSSpec spec = upgrade("v2", 10);
    spec.setNodeselector(selector);
    List<NodeFacts> fleet =
        List.of(
            node("gpu-1").label(SEL, "gpu").build(),
            node("edge-1").label(SEL, "edge").build(),
            node("plain").build());
    RolloutPlan plan = RolloutPlanner.plan(spec, fleet, NOW);
    assertThat(String.join(",", plan.start())).isEqualTo(expected);
    plan.skipped().values().stream()
        .filter(s -> s.reason() == SkipReason.OUTSIDE_SELECTOR)
        .forEach(s -> assertThat(s.message()).contains("spec.nodeselector is '" + selector));
  }

  @ParameterizedTest(name = "maxunavailable {0}, mode {1}, {2} down -> {3} started")
  @CsvSource({
    "3, PARALLEL, 0, 3",
    "3, PARALLEL, 1, 2",
    "3, PARALLEL, 3, 0",
    "10, SERIAL, 0, 1",
    "10, SERIAL, 1, 1",
    "0, PARALLEL, 0, 0",
  })
  void maxUnavailableCountsNodesDownForOtherReasons(
      int max, ExecutionMode mode, int down, int started) {
    OSSpec spec = upgrade("v2", max);
    spec.setExecutionmode(mode);
    List<NodeFacts> fleet = new java.util.ArrayList<>(nodes(8));
    for (int i = 0; i < down; i++) {
      fleet.set(i, node(fleet.get(i).name()).notReady().build());
    }
    RolloutPlan plan = RolloutPlanner.plan(spec, fleet, NOW);
    assertThat(plan.start()).hasSize(started);
  }

  @Test
  void serialModeWaitsForTheNodeInProgress() {
    OSSpec spec = upgrade("v2", 5);
    spec.setExecutionmode(ExecutionMode.SERIAL);
    List<NodeFacts> fleet =
        List.of(node("a").inProgress("v2", NOW.minusSeconds(30)).build(), node("b").build());
    RolloutPlan plan = RolloutPlanner.plan(spec, fleet, NOW);
    assertThat(plan.start()).isEmpty();
    assertThat(plan.inProgress()).containsExactly("a");
    assertThat(plan.skipped().get("b").message()).contains("serial mode: waiting for a");
  }

  @Test
  void cordonedAndNotReadyNodesAreSkippedAndCount() {
    List<NodeFacts> fleet =
        List.of(node("a").cordoned().build(), node("b").notReady().build(), node("c").build());
    RolloutPlan plan = RolloutPlanner.plan(upgrade("v2", 2), fleet, NOW);
    assertThat(plan.start()).isEmpty();
    assertThat(plan.skipped().get("a").reason()).isEqualTo(SkipReason.CORDONED);
    assertThat(plan.skipped().get("b").reason()).isEqualTo(SkipReason.NOT_READY);
    assertThat(plan.skipped().get("c").message()).contains("unavailable now: a, b");
  }

  @Test
  void timeIntervalSpacesBatches() {
    OSSpec spec = upgrade("v2", 5);
    spec.setTimeinterval(120);
    List<NodeFacts> fleet =
        List.of(node("a").doneAt("v2", NOW.minusSeconds(10)).build(), node("b").build());
    RolloutPlan plan = RolloutPlanner.plan(spec, fleet, NOW);
    assertThat(plan.start()).isEmpty();
    assertThat(plan.skipped().get("b").reason()).isEqualTo(SkipReason.TIME_INTERVAL);
    assertThat(plan.retryAt()).contains(NOW.plusSeconds(50)); // started 70 s ago
    assertThat(RolloutPlanner.plan(spec, fleet, plan.retryAt().get()).start()).containsExactly("b");
  }

  @ParameterizedTest(name = "window {0}-{1}: started={2}")
  @CsvSource({"11:00:00, 13:00:00, true", "13:00:00, 11:00:00, false", "23:00:00, 12:30:00, true"})
  void timeWindowGatesStarts(String start, String end, boolean started) {
    OSSpec spec = upgrade("v2", 1);
    spec.setTimewindow(new TimeWindow(start, end));
    RolloutPlan plan = RolloutPlanner.plan(spec, nodes(2), NOW);
    assertThat(!plan.start().isEmpty()).isEqualTo(started);
    if (!started) {
      assertThat(plan.skipped().get("node-000").reason()).isEqualTo(SkipReason.OUTSIDE_TIME_WINDOW);
      assertThat(plan.retryAt()).isPresent();
    }
  }

  @Test
  void pauseStartsNothingNewButReportsProgress() {
    OSSpec spec = upgrade("v2", 5);
    spec.setPause(true);
    List<NodeFacts> fleet =
        List.of(node("a").inProgress("v2", NOW).build(), node("b").build(), node("c").build());
    RolloutPlan plan = RolloutPlanner.plan(spec, fleet, NOW);
    assertThat(plan.start()).isEmpty();
    assertThat(plan.is(OSStatus.PAUSED)).isTrue();
    assertThat(plan.skipped().get("b").reason()).isEqualTo(SkipReason.PAUSED);
    assertThat(plan.counts().inProgress()).isEqualTo(1);
  }

  @Test
  void failureBudgetHalts() {
    OSSpec spec = upgrade("v2", 5);
    spec.setFailurebudget(2);
    List<NodeFacts> one = List.of(node("a").failed("v2").build(), node("b").build());
    assertThat(RolloutPlanner.plan(spec, one, NOW).start()).containsExactly("b");
    List<NodeFacts> two =
        List.of(node("a").failed("v2").build(), node("b").failed("v2").build(), node("c").build());
    RolloutPlan plan = RolloutPlanner.plan(spec, two, NOW);
    assertThat(plan.start()).isEmpty();
    assertThat(plan.is(OSStatus.HALTED)).isTrue();
    assertThat(plan.condition(OSStatus.HALTED).reason()).isEqualTo("FailureBudgetExhausted");
    assertThat(plan.condition(OSStatus.HALTED).message()).contains("a, b");
    assertThat(plan.counts().failed()).isEqualTo(2);
  }

  @Test
  void aFailureAtAnOlderTargetDoesNotCount() {
    OSSpec spec = upgrade("v3", 5);
    spec.setFailurebudget(1);
    RolloutPlan plan = RolloutPlanner.plan(spec, List.of(node("a").failed("v2").build()), NOW);
    assertThat(plan.start()).containsExactly("a");
  }

  @Test
  void canaryGoesFirstThenSoaks() {
    OSSpec spec = upgrade("v2", 10);
    spec.setCanarycount(2);
    spec.setCanarysoak(600);
    RolloutPlan first = RolloutPlanner.plan(spec, nodes(6), NOW);
    assertThat(first.start()).containsExactly("node-000", "node-001");
    assertThat(first.skipped().get("node-002").message()).contains("canary");

    List<NodeFacts> soaking = new java.util.ArrayList<>(nodes(6));
    soaking.set(0, node("node-000").doneAt("v2", NOW.minusSeconds(300)).build());
    soaking.set(1, node("node-001").doneAt("v2", NOW.minusSeconds(100)).build());
    RolloutPlan waiting = RolloutPlanner.plan(spec, soaking, NOW);
    assertThat(waiting.start()).isEmpty();
    assertThat(waiting.skipped().get("node-002").reason()).isEqualTo(SkipReason.CANARY);
    assertThat(waiting.retryAt()).contains(NOW.plusSeconds(500));
    assertThat(RolloutPlanner.plan(spec, soaking, NOW.plusSeconds(500)).start()).hasSize(4);
  }

  @Test
  void aFailedCanaryHaltsEvenWithoutBudget() {
    OSSpec spec = upgrade("v2", 10);
    spec.setCanarycount(1);
    List<NodeFacts> fleet = List.of(node("a").failed("v2").build(), node("b").build());
    RolloutPlan plan = RolloutPlanner.plan(spec, fleet, NOW);
    assertThat(plan.start()).isEmpty();
    assertThat(plan.condition(OSStatus.HALTED).reason()).isEqualTo("CanaryFailed");
  }

  @Test
  void controlPlaneNodesNeedOptInAndGoOneAtATimeLast() {
    List<NodeFacts> fleet =
        List.of(
            node("cp-1").controlPlane().build(),
            node("cp-2").controlPlane().build(),
            node("w-1").build());
    OSSpec spec = upgrade("v2", 5);
    RolloutPlan excluded = RolloutPlanner.plan(spec, fleet, NOW);
    assertThat(excluded.start()).containsExactly("w-1");
    assertThat(excluded.skipped().get("cp-1").reason())
        .isEqualTo(SkipReason.CONTROL_PLANE_EXCLUDED);
    spec.setControlplane(true);
    RolloutPlan opted = RolloutPlanner.plan(spec, fleet, NOW);
    assertThat(opted.start()).containsExactly("w-1", "cp-1");
    assertThat(opted.skipped().get("cp-2").reason()).isEqualTo(SkipReason.CONTROL_PLANE_BUSY);
  }

  @Test
  void noControlPlaneNodeStartsWhileAnotherIsUnavailable() {
    OSSpec spec = upgrade("v2", 5);
    spec.setControlplane(true);
    spec.setNodeselector("cp");
    List<NodeFacts> fleet =
        List.of(
            node("cp-1").controlPlane().label(SEL, "cp").build(),
            node("cp-other").controlPlane().notReady().build());
    RolloutPlan plan = RolloutPlanner.plan(spec, fleet, NOW);
    assertThat(plan.start()).isEmpty();
    assertThat(plan.skipped().get("cp-1").message()).contains("cp-other");
  }

  @Test
  void waitsWhenEvictedPodsWouldNotFit() {
    List<NodeFacts> fleet =
        List.of(
            node("a").allocatable(8000, 8 * GI).pod("big", 3000, GI).build(),
            node("b")
                .allocatable(4000, 8 * GI)
                .pod("p", 2000, GI)
                .daemonPod("ds", 500, GI)
                .build());
    RolloutPlan plan = RolloutPlanner.plan(upgrade("v2", 2), fleet, NOW);
    assertThat(plan.start()).containsExactly("b");
    assertThat(plan.skipped().get("a").reason()).isEqualTo(SkipReason.INSUFFICIENT_CAPACITY);
    assertThat(plan.skipped().get("a").message()).contains("cpu 3000m");
    assertThat(plan.condition(OSStatus.PROGRESSING).status()).isTrue();
  }

  @Test
  void podsPlacedOnANodeChosenLaterArePlacedAgain() {
    List<NodeFacts> fleet =
        List.of(
            node("a").allocatable(4000, 8 * GI).pod("p1", 3000, GI).build(),
            node("b").allocatable(4000, 8 * GI).build(),
            node("c").allocatable(4000, 8 * GI).build());
    RolloutPlan plan = RolloutPlanner.plan(upgrade("v2", 3), fleet, NOW);
    // a's pod lands on b; draining b too moves it to c; c then has nowhere to put it
    assertThat(plan.start()).containsExactly("a", "b");
    assertThat(plan.skipped().get("c").reason()).isEqualTo(SkipReason.INSUFFICIENT_CAPACITY);
  }

  @Test
  void configOpsDrainNothingSoNeedNoCapacity() {
    OSSpec spec = upgrade("v1", 2);
    spec.setOpstype(OpsType.CONFIG);
    spec.setSysconfigs(new SysConfigs("c2"));
    List<NodeFacts> full =
        List.of(node("a").pod("p", 3900, GI).build(), node("b").pod("q", 3900, GI).build());
    assertThat(RolloutPlanner.plan(spec, full, NOW).start()).containsExactly("a", "b");
    assertThat(RolloutPlanner.plan(upgrade("v2", 2), full, NOW).start()).isEmpty();
  }

  @Test
  void configOpsCompareTheReportedConfigVersion() {
    OSSpec spec = upgrade("v1", 5);
    spec.setOpstype(OpsType.CONFIG);
    spec.setSysconfigs(new SysConfigs("c2"));
    List<NodeFacts> fleet =
        List.of(node("a").instance(InstanceView.idle("c2")).build(), node("b").build());
    RolloutPlan plan = RolloutPlanner.plan(spec, fleet, NOW);
    assertThat(plan.start()).containsExactly("b");
    assertThat(plan.skipped().get("a").reason()).isEqualTo(SkipReason.AT_TARGET);
  }

  @Test
  void aNodeItsProxyReportedDoneIsNotStartedAgainWhileTheNodeLags() {
    InstanceView done =
        new InstanceView("idle", null, "Done", "v2", NOW.minusSeconds(60), NOW.minusSeconds(1));
    List<NodeFacts> fleet =
        List.of(node("a").image("v1").instance(done).build(), node("b").image("v1").build());
    RolloutPlan plan = RolloutPlanner.plan(upgrade("v2", 2), fleet, NOW);
    assertThat(plan.start()).containsExactly("b");
    assertThat(plan.skipped().get("a").reason()).isEqualTo(SkipReason.AWAITING_NODE_REPORT);
    // once the Node reports the version, it counts as at target
    List<NodeFacts> reported =
        List.of(node("a").image("v2").instance(done).build(), node("b").image("v1").build());
    assertThat(RolloutPlanner.plan(upgrade("v2", 2), reported, NOW).skipped().get("a").reason())
        .isEqualTo(SkipReason.AT_TARGET);
  }

  @Test
  void completeWhenEveryNodeIsAtTarget() {
    List<NodeFacts> fleet = List.of(node("a").image("v2").build(), node("b").image("v2").build());
    RolloutPlan plan = RolloutPlanner.plan(upgrade("v2", 1), fleet, NOW);
    assertThat(plan.is(OSStatus.COMPLETE)).isTrue();
    assertThat(plan.is(OSStatus.PROGRESSING)).isFalse();
    assertThat(plan.counts()).isEqualTo(new RolloutPlan.Counts(2, 2, 0, 0));
  }

  @ParameterizedTest(name = "invalid: {0}")
  @CsvSource({"no-opstype", "no-version", "bad-zone", "bad-window"})
  void invalidSpecsHaltWithAReadableMessage(String kind) {
    OSSpec spec = upgrade("v2", 1);
    switch (kind) {
      case "no-opstype" -> spec.setOpstype(null);
      case "no-version" -> spec.setOsversion(" ");
      case "bad-zone" -> spec.setTimezone("Mars/Olympus");
      default -> spec.setTimewindow(new TimeWindow("08:00:00", ""));
    }
    RolloutPlan plan = RolloutPlanner.plan(spec, nodes(2), NOW);
    assertThat(plan.start()).isEmpty();
    assertThat(plan.condition(OSStatus.HALTED).reason()).isEqualTo("InvalidSpec");
    assertThat(plan.condition(OSStatus.HALTED).message()).startsWith("spec.");
    assertThat(plan.skipped()).hasSize(2);
  }

  @Test
  void nodesWithoutOsInstanceAreSkipped() {
    RolloutPlan plan =
        RolloutPlanner.plan(upgrade("v2", 2), List.of(node("a").instance(null).build()), NOW);
    assertThat(plan.skipped().get("a").reason()).isEqualTo(SkipReason.NO_OSINSTANCE);
  }
}
