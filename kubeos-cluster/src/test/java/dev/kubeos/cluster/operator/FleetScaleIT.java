package dev.kubeos.cluster.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kubeos.crd.OS;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A fleet of simulated nodes ({@value #DEFAULT_NODES} in the test; {@code bench/fleet-bench.sh}
 * runs 200 with {@code -Dkubeos.fleet.nodes=200}), maxunavailable a tenth of it, 5 failing:
 * converges, never exceeds maxunavailable, assigns each node once, and prints the figures for
 * docs/benchmarks.md (API requests per started node, reconcile time, reaction time). Its waits are
 * for states; their bounds only end a broken run.
 */
class FleetScaleIT {
  static final int DEFAULT_NODES = 50;
  private static final int NODES =
      Math.max(DEFAULT_NODES, Integer.getInteger("kubeos.fleet.nodes", DEFAULT_NODES));
  private static final int MAX_UNAVAILABLE = NODES / 10;
  private static final Duration LONG = Duration.ofMinutes(3);

  @Test
  void fleetConverges() {
    try (SimCluster sim = new SimCluster(Duration.ofMillis(200));
        OperatorMetrics metrics = new OperatorMetrics()) {
      sim.nodes(NODES, null, true).start();
      for (int i = 0; i < 5; i++) {
        sim.failing.add(String.format("n%03d", 3 + i * NODES / 5));
      }
      OS os = SimCluster.os("os-v2", "KubeOS v2", MAX_UNAVAILABLE);
      os.getSpec().setFailurebudget(10);
      sim.client.resource(os).create();
      Map<String, AtomicInteger> requests = new ConcurrentHashMap<>();
      long t0 = System.nanoTime();
      try (Operator op = sim.operator("a", null, requests, metrics)) {
        op.start();
        await()
            .atMost(LONG)
            .until(
                () ->
                    sim.os().getStatus() != null
                        && sim.os().getStatus().getAtTarget() == NODES - 5);
        await().atMost(LONG).until(() -> OperatorIT.unmarked(sim));
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertThat(sim.os().getStatus().getFailed()).isEqualTo(5);
        assertThat(sim.assignments).hasSize(NODES);
        assertThat(requests.keySet()).allMatch(k -> !k.startsWith("PUT"));
        assertThat(sim.assignments.values()).allMatch(a -> a.get() == 1);
        assertThat(sim.maxAssigned.get()).isLessThanOrEqualTo(MAX_UNAVAILABLE);
        int total =
            requests.entrySet().stream()
                .filter(e -> !e.getKey().equals("lease"))
                .mapToInt(e -> e.getValue().get())
                .sum();
        Timer pass = metrics.registry().find("kubeos_reconcile_duration").timer();
        System.out.printf(
            "FleetScaleIT %d nodes: %.1f s, requests %s = %.2f per started node, %d passes,"
                + " reconcile mean %.2f ms max %.2f ms, reaction after a node finished %s%n",
            NODES,
            seconds,
            requests,
            total / (double) NODES,
            op.passes(),
            pass.mean(TimeUnit.MILLISECONDS),
            pass.max(TimeUnit.MILLISECONDS),
            reaction(sim));
      }
    }
  }

  /**
   * Median and p90 (ms) from a node's finish report to the next assignment the actor saw (the
   * operator's hand-back of the finished node included).
   */
  static String reaction(SimCluster sim) {
    List<Long> idles = new ArrayList<>(sim.idles);
    List<Long> starts = new ArrayList<>(sim.starts);
    idles.sort(null);
    starts.sort(null);
    List<Double> gaps = new ArrayList<>();
    int j = 0;
    for (long s : starts) {
      while (j + 1 < idles.size() && idles.get(j + 1) < s) {
        j++;
      }
      if (!idles.isEmpty() && idles.get(j) < s) {
        gaps.add((s - idles.get(j)) / 1e6);
      }
    }
    gaps.sort(null);
    if (gaps.isEmpty()) {
      return "n/a";
    }
    return String.format(
        "median %.1f ms, p90 %.1f ms (%d starts)",
        gaps.get(gaps.size() / 2), gaps.get(gaps.size() * 9 / 10), gaps.size());
  }
}
