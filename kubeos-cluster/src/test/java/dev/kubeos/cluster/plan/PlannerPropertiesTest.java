package dev.kubeos.cluster.plan;

import static dev.kubeos.cluster.plan.Fleet.NOW;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kubeos.crd.ExecutionMode;
import dev.kubeos.crd.OSSpec;
import dev.kubeos.crd.OSStatus;
import dev.kubeos.crd.TimeWindow;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Invariants of the planner over random fleets and specs. */
class PlannerPropertiesTest {
  static final String SEL = "upgrade.openeuler.org/node-selector";

  @Provide
  Arbitrary<OSSpec> specs() {
    Arbitrary<String> selector = Arbitraries.of("no-label", "all-label", "a", "b");
    Arbitrary<TimeWindow> window =
        Arbitraries.integers()
            .between(0, 23)
            .tuple2()
            .map(
                t ->
                    new TimeWindow(
                        String.format("%02d:00:00", t.get1()),
                        String.format("%02d:30:00", t.get2())))
            .injectNull(0.5);
    return Combinators.combine(
            Arbitraries.integers().between(0, 6),
            Arbitraries.of(ExecutionMode.class),
            selector,
            Arbitraries.of(true, false).tuple3(),
            window,
            Arbitraries.integers().between(1, 3).injectNull(0.4),
            Arbitraries.integers().between(0, 3),
            Arbitraries.of(0, 60))
        .as(
            (max, mode, sel, flags, win, budget, canary, interval) -> {
              OSSpec s = Fleet.upgrade("v2", max);
              s.setExecutionmode(mode);
              s.setNodeselector(sel);
              s.setControlplane(flags.get1());
              s.setPause(flags.get2() && flags.get3());
              s.setTimewindow(win);
              s.setFailurebudget(budget);
              s.setCanarycount(canary);
              s.setTimeinterval(interval);
              return s;
            });
  }

  @Provide
  Arbitrary<List<NodeFacts>> fleets() {
    return Arbitraries.longs().map(seed -> randomFleet(new Random(seed), false));
  }

  /** A random fleet; {@code healthy} leaves out NotReady, cordoned, failed and busy nodes. */
  static List<NodeFacts> randomFleet(Random rnd, boolean healthy) {
    int size = 1 + rnd.nextInt(30);
    List<NodeFacts> out = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      Fleet.N n = Fleet.node(String.format("n%02d", i)).allocatable(64000, 256 * Fleet.GI);
      int sel = rnd.nextInt(3);
      if (sel > 0) {
        n.label(SEL, sel == 1 ? "a" : "b");
      }
      if (rnd.nextInt(8) == 0) {
        n.controlPlane();
      }
      // a lone node has nowhere to move its pods: healthy fleets keep pods on 2+ nodes only
      for (int p = healthy && size == 1 ? 0 : rnd.nextInt(4); p > 0; p--) {
        n.pod("p" + p, 100 + rnd.nextInt(900), Fleet.GI);
      }
      if (rnd.nextInt(4) == 0) {
        n.image("v2");
      }
      if (!healthy) {
        switch (rnd.nextInt(12)) {
          case 0 -> n.notReady();
          case 1 -> n.cordoned();
          case 2 -> n.inProgress("v2", NOW.minusSeconds(rnd.nextInt(300)));
          case 3 -> n.failed("v2");
          case 4 -> n.instance(null);
          default -> {}
        }
      }
      out.add(n.build());
    }
    return out;
  }

  static boolean selected(OSSpec s, NodeFacts n) {
    SpecRules r = SpecRules.of(s);
    return r.selects(n.labels()) && (!n.controlPlane() || s.isControlplane());
  }

  static boolean unavailable(NodeFacts n) {
    return !n.ready() || n.unschedulable() || (n.instance() != null && n.instance().assigned());
  }

  @Property(tries = 300)
  void neverMoreThanMaxUnavailableSelectedNodesUnavailable(
      @ForAll("specs") OSSpec spec, @ForAll("fleets") List<NodeFacts> fleet) {
    RolloutPlan plan = RolloutPlanner.plan(spec, fleet, NOW);
    long before = fleet.stream().filter(n -> selected(spec, n) && unavailable(n)).count();
    if (!plan.start().isEmpty()) {
      assertThat(before + plan.start().size()).isLessThanOrEqualTo(spec.getMaxunavailable());
    }
    if (spec.getExecutionmode() == ExecutionMode.SERIAL) {
      assertThat(plan.inProgress().size() + plan.start().size())
          .isLessThanOrEqualTo(Math.max(1, plan.inProgress().size()));
    }
  }

  @Property(tries = 300)
  void onlySelectedNodesInsideTheWindowAreChosen(
      @ForAll("specs") OSSpec spec,
      @ForAll("fleets") List<NodeFacts> fleet,
      @ForAll int minuteOfDay) {
    Instant now = NOW.plus(Duration.ofMinutes(Math.floorMod(minuteOfDay, 1440)));
    RolloutPlan plan = RolloutPlanner.plan(spec, fleet, now);
    for (String name : plan.start()) {
      NodeFacts n = fleet.stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow();
      assertThat(selected(spec, n)).as(name).isTrue();
      assertThat(n.ready() && !n.unschedulable() && !"v2".equals(n.osImage())).isTrue();
    }
    Window.parse(spec.getTimewindow())
        .filter(w -> !w.contains(now, java.time.ZoneOffset.UTC))
        .ifPresent(w -> assertThat(plan.start()).isEmpty());
    long controlPlanes =
        plan.start().stream()
            .filter(s -> fleet.stream().anyMatch(n -> n.name().equals(s) && n.controlPlane()))
            .count();
    assertThat(controlPlanes).isLessThanOrEqualTo(1);
    if (controlPlanes == 1) {
      assertThat(fleet.stream().filter(n -> n.controlPlane() && unavailable(n))).isEmpty();
    }
  }

  @Property(tries = 200)
  void theFailureBudgetHaltsAndPauseStartsNothing(
      @ForAll("specs") OSSpec spec, @ForAll("fleets") List<NodeFacts> fleet) {
    RolloutPlan plan = RolloutPlanner.plan(spec, fleet, NOW);
    long failed =
        fleet.stream().filter(n -> selected(spec, n) && SpecRules.of(spec).failed(n)).count();
    if (spec.getFailurebudget() != null && failed >= spec.getFailurebudget()) {
      assertThat(plan.start()).isEmpty();
      assertThat(plan.is(OSStatus.HALTED)).isTrue();
    }
    if (spec.isPause()) {
      assertThat(plan.start()).isEmpty();
      assertThat(plan.is(OSStatus.PAUSED)).isTrue();
    }
    assertThat(plan.counts().failed()).isEqualTo((int) failed);
  }

  @Property(tries = 200)
  void planIsDeterministicWhateverTheInputOrder(
      @ForAll("specs") OSSpec spec, @ForAll("fleets") List<NodeFacts> fleet, @ForAll long seed) {
    List<NodeFacts> shuffled = new ArrayList<>(fleet);
    Collections.shuffle(shuffled, new Random(seed));
    assertThat(RolloutPlanner.plan(spec, shuffled, NOW))
        .isEqualTo(RolloutPlanner.plan(spec, fleet, NOW));
  }

  @Provide
  Arbitrary<List<NodeFacts>> crowdedFleets() {
    return Arbitraries.longs()
        .map(
            seed -> {
              Random rnd = new Random(seed);
              List<NodeFacts> out = new ArrayList<>();
              for (int i = 0, size = 2 + rnd.nextInt(12); i < size; i++) {
                Fleet.N n = Fleet.node(String.format("n%02d", i));
                n.allocatable(2000 + rnd.nextInt(2000), 4 * Fleet.GI + rnd.nextInt(4) * Fleet.GI);
                for (int p = rnd.nextInt(5); p > 0; p--) {
                  n.pod("p" + p, 100 + rnd.nextInt(700), (1 + rnd.nextInt(3)) * (Fleet.GI / 2));
                }
                if (rnd.nextInt(6) == 0) {
                  n.daemonPod("ds", 100, Fleet.GI / 4);
                }
                out.add(n.build());
              }
              return out;
            });
  }

  /**
   * Independent of the planner's first-fit: the pods evicted from the started nodes never need more
   * CPU or memory in total than the nodes left schedulable have free.
   */
  @Property(tries = 300)
  void startedNodesLeaveRoomForTheirPods(
      @ForAll("crowdedFleets") List<NodeFacts> fleet, @ForAll int max) {
    OSSpec spec = Fleet.upgrade("v2", 1 + Math.floorMod(max, fleet.size()));
    RolloutPlan plan = RolloutPlanner.plan(spec, fleet, NOW);
    Resources evicted = Resources.ZERO;
    Resources free = Resources.ZERO;
    for (NodeFacts n : fleet) {
      if (plan.start().contains(n.name())) {
        for (PodView p : n.pods()) {
          evicted = p.evictedByDrain() ? evicted.plus(p.requests()) : evicted;
        }
      } else {
        Resources left = n.allocatable().minus(n.requested()); // overcommitted: no room
        free =
            free.plus(
                new Resources(Math.max(0, left.cpuMillis()), Math.max(0, left.memoryBytes())));
      }
    }
    assertThat(free.holds(evicted)).as("evicted %s, free %s", evicted, free).isTrue();
  }

  @Property(tries = 150)
  void aHealthyFleetConvergesWhenEveryNodeSucceeds(
      @ForAll("specs") OSSpec spec, @ForAll long seed) {
    spec.setPause(false);
    spec.setMaxunavailable(Math.max(1, spec.getMaxunavailable()));
    List<NodeFacts> fleet = randomFleet(new Random(seed), true);
    Simulation sim = Simulation.run(spec, fleet, NOW, Duration.ofMinutes(10));
    assertThat(sim.finalPlan().is(OSStatus.COMPLETE)).as(sim.skipped().toString()).isTrue();
    long needed =
        fleet.stream().filter(n -> selected(spec, n) && !"v2".equals(n.osImage())).count();
    assertThat(sim.batches().stream().mapToInt(List::size).sum()).isEqualTo((int) needed);
    for (List<String> batch : sim.batches()) {
      assertThat(batch.size()).isLessThanOrEqualTo(spec.getMaxunavailable());
    }
  }
}
