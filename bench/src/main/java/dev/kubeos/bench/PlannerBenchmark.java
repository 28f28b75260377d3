package dev.kubeos.bench;

import dev.kubeos.cluster.plan.InstanceView;
import dev.kubeos.cluster.plan.NodeFacts;
import dev.kubeos.cluster.plan.PodView;
import dev.kubeos.cluster.plan.Resources;
import dev.kubeos.cluster.plan.RolloutPlan;
import dev.kubeos.cluster.plan.RolloutPlanner;
import dev.kubeos.crd.OSInstanceSpec;
import dev.kubeos.crd.OSSpec;
import dev.kubeos.crd.OpsType;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One planner pass over a large fleet (goal: under 20 ms at 5,000 nodes). Every node carries 10
 * evictable pods and a DaemonSet pod, so the capacity check places real pods. Scenarios: {@code
 * fresh} (nothing started yet), {@code midway} (40% done, 50 in progress), {@code tight} (90% of
 * the nodes are too full to take any pod, so most candidates are refused for capacity).
 *
 * <p>Run: {@code java -cp "bench/target/classes:$(cat bench/target/cp.txt)" org.openjdk.jmh.Main
 * PlannerBenchmark} (see docs/benchmarks.md).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class PlannerBenchmark {
  static final Instant NOW = Instant.parse("2026-03-02T12:00:00Z");
  static final long GI = 1L << 30;

  @Param({"5000"})
  int nodes;

  @Param({"fresh", "midway", "tight"})
  String scenario;

  OSSpec spec;
  List<NodeFacts> fleet;

  @Setup
  public void setUp() {
    spec = new OSSpec();
    spec.setOpstype(OpsType.UPGRADE);
    spec.setOsversion("v2");
    spec.setMaxunavailable(100);
    spec.setNodeselector("all-label");
    spec.setTimeinterval(0);
    Random rnd = new Random(42);
    fleet = new ArrayList<>();
    boolean tight = scenario.equals("tight");
    for (int i = 0; i < nodes; i++) {
      List<PodView> pods = new ArrayList<>();
      for (int p = 0; p < 10; p++) {
        long cpu = tight && i % 10 != 0 ? 1500 : 200 + rnd.nextInt(600);
        pods.add(PodView.evictable("apps", "pod-" + i + "-" + p, new Resources(cpu, GI)));
      }
      pods.add(
          new PodView("kube-system", "ds-" + i, new Resources(100, GI / 8), true, false, false));
      InstanceView instance = InstanceView.idle("c1");
      String image = "v1";
      if (scenario.equals("midway") && i % 5 < 2) {
        image = "v2";
        instance =
            new InstanceView(OSInstanceSpec.IDLE, "c1", "Done", "v2", NOW.minusSeconds(900), NOW);
      } else if (scenario.equals("midway") && i % 100 == 2) {
        instance = new InstanceView("upgrade", "c1", "Draining", "v2", NOW, null);
      }
      fleet.add(
          new NodeFacts(
              String.format("node-%05d", i),
              Map.of("zone", "z" + (i % 3)),
              true,
              false,
              image,
              new Resources(16000, 64 * GI),
              pods,
              instance));
    }
  }

  @Benchmark
  public RolloutPlan plan() {
    return RolloutPlanner.plan(spec, fleet, NOW);
  }
}
