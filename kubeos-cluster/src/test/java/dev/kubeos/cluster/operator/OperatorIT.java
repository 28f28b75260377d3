package dev.kubeos.cluster.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kubeos.crd.OS;
import dev.kubeos.crd.OSInstanceStatus;
import dev.kubeos.crd.OSStatus;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Node;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The operator against fabric8's mock server in CRUD mode with simulated nodes. */
class OperatorIT {
  private static final Duration WORK = Duration.ofMillis(150);

  /** Bounds every wait for a state; generous, never waited out in a healthy run. */
  private static final Duration LONG = Duration.ofMinutes(2);

  @Test
  void smallFleetConvergesWithinMaxUnavailableAndReportsIt() throws Exception {
    try (SimCluster sim = new SimCluster(WORK);
        OperatorMetrics metrics = new OperatorMetrics()) {
      sim.nodes(7, null, true).nodes(1, null, false).nodes(2, "other", true).start();
      sim.failing.add("n003");
      OS os = SimCluster.os("os-v2", "KubeOS v2", 3);
      os.getSpec().setFailurebudget(3);
      sim.client.resource(os).create();
      Map<String, AtomicInteger> requests = new ConcurrentHashMap<>();
      String rv8 = sim.instance("n008").getMetadata().getResourceVersion();
      String rv9 = sim.instance("n009").getMetadata().getResourceVersion();
      int port = metrics.serve("127.0.0.1", 0);
      try (Operator op = sim.operator("a", null, requests, metrics)) {
        op.start();
        await().atMost(LONG).until(() -> count(sim, "KubeOS v2") == 6);
        // the NotReady node counts against maxunavailable; once Ready it is upgraded as well
        assertThat(sim.assignments).doesNotContainKey("n007");
        // the NotReady node took one of the 3 slots: at most 2 were ever assigned together
        assertThat(sim.maxAssigned.get()).isLessThanOrEqualTo(2);
        sim.client.nodes().withName("n007").edit(n -> ready(n));
        await().atMost(LONG).until(() -> count(sim, "KubeOS v2") == 7);
        await().atMost(LONG).until(() -> sim.os().getStatus().getAtTarget() == 7 && unmarked(sim));
        OSStatus st = sim.os().getStatus();
        assertThat(st.getSelected()).isEqualTo(8);
        assertThat(st.getFailed()).isEqualTo(1);
        assertThat(st.getInProgress()).isZero();
        assertThat(st.getObservedGeneration()).isEqualTo(sim.os().getMetadata().getGeneration());
        assertThat(st.getConditions())
            .extracting(Condition::getType)
            .containsExactlyInAnyOrder("Progressing", "Complete", "Paused", "Halted");
        assertThat(sim.maxAssigned.get()).isLessThanOrEqualTo(3);
        assertThat(sim.assignments.keySet()).doesNotContain("n008", "n009");
        // outside the selector: OSInstances never written, nodes never marked
        assertThat(sim.instance("n008").getMetadata().getResourceVersion()).isEqualTo(rv8);
        assertThat(sim.instance("n009").getMetadata().getResourceVersion()).isEqualTo(rv9);
        assertThat(sim.client.nodes().withName("n008").get().getMetadata().getAnnotations())
            .doesNotContainKey(Reconciler.ROLLOUT);
        assertThat(sim.instance("n003").getStatus().getPhase()).isEqualTo(OSInstanceStatus.FAILED);
        assertThat(sim.assignments.values()).allMatch(a -> a.get() == 1);
        assertThat(sim.annotatedWhileWorking).hasSize(8);
        Map<String, Long> reasons = reasons(sim);
        assertThat(reasons).containsEntry("NodeCompleted", 7L).containsEntry("NodeFailed", 1L);
        assertThat(reasons).containsKey("NodesStarted");
        String scrape = get(port);
        assertThat(scrape)
            .contains("kubeos_node_failures_total{os=\"default/os-v2\"} 1.0")
            .contains("kubeos_nodes{os=\"default/os-v2\",state=\"at_target\"} 7.0")
            .contains("kubeos_node_versions{version=\"KubeOS v2\"} 7.0")
            .contains("kubeos_node_operation_duration_seconds_count");
        System.out.printf(
            "small fleet: %s requests for 8 started nodes, %d passes%n", requests, op.passes());
      }
    }
  }

  @Test
  void failureBudgetHalts() {
    try (SimCluster sim = new SimCluster(WORK)) {
      sim.nodes(10, null, true).start();
      sim.failing.addAll(List.of("n000", "n001", "n002", "n003"));
      OS os = SimCluster.os("os-v2", "KubeOS v2", 2);
      os.getSpec().setFailurebudget(2);
      sim.client.resource(os).create();
      try (Operator op =
          sim.operator("a", null, new ConcurrentHashMap<>(), new OperatorMetrics())) {
        op.start();
        await().atMost(LONG).until(() -> isTrue(sim.os(), OSStatus.HALTED));
        assertThat(condition(sim.os(), OSStatus.HALTED).getReason())
            .isEqualTo("FailureBudgetExhausted");
        // nodes already in flight when the budget ran out may finish; no other node starts, as
        // seen after they finished and two more passes of the operator
        await().atMost(LONG).until(() -> sim.inFlight() == 0);
        int started = sim.assignments.size();
        awaitPasses(op, 2);
        assertThat(sim.assignments).hasSize(started);
        assertThat(sim.failing).containsAll(sim.assignments.keySet());
        assertThat(started).isBetween(2, 3);
        assertThat(sim.os().getStatus().getFailed()).isEqualTo(started);
        assertThat(reasons(sim)).containsKey("Halted");
      }
    }
  }

  @Test
  void pauseStopsNewNodesAndResumeContinues() {
    try (SimCluster sim = new SimCluster(Duration.ofMillis(300))) {
      sim.nodes(6, null, true).start();
      sim.client.resource(SimCluster.os("os-v2", "KubeOS v2", 1)).create();
      try (Operator op =
          sim.operator("a", null, new ConcurrentHashMap<>(), new OperatorMetrics())) {
        op.start();
        await().atMost(LONG).until(() -> sim.assignments.size() >= 2);
        sim.pause(true);
        await().atMost(LONG).until(() -> isTrue(sim.os(), OSStatus.PAUSED));
        // the node in flight finishes; no other starts, as seen after two more passes
        await().atMost(LONG).until(() -> sim.inFlight() == 0);
        int started = sim.assignments.size();
        awaitPasses(op, 2);
        assertThat(sim.assignments).hasSize(started);
        assertThat(started).isLessThan(6);
        sim.pause(false);
        await().atMost(LONG).until(() -> count(sim, "KubeOS v2") == 6);
        assertThat(sim.maxAssigned.get()).isEqualTo(1);
      }
    }
  }

  @Test
  void restartedOperatorResumesWithoutRepeatingOrSkipping() {
    try (SimCluster sim = new SimCluster(Duration.ofMillis(250))) {
      sim.nodes(8, null, true).start();
      sim.client.resource(SimCluster.os("os-v2", "KubeOS v2", 2)).create();
      Operator first = sim.operator("a", null, new ConcurrentHashMap<>(), new OperatorMetrics());
      first.start();
      await().atMost(LONG).until(() -> sim.assignments.size() >= 3);
      first.close();
      try (Operator second =
          sim.operator("b", null, new ConcurrentHashMap<>(), new OperatorMetrics())) {
        second.start();
        await().atMost(LONG).until(() -> count(sim, "KubeOS v2") == 8);
        await().atMost(LONG).until(() -> unmarked(sim));
      }
      assertThat(sim.assignments).hasSize(8);
      assertThat(sim.assignments.values()).allMatch(a -> a.get() == 1);
      assertThat(sim.maxAssigned.get()).isLessThanOrEqualTo(2);
    }
  }

  @Test
  void laterOverlappingOsIsRejectedAndMalformedOneHalts() throws Exception {
    try (SimCluster sim = new SimCluster(WORK)) {
      sim.nodes(3, null, true).nodes(2, "batch", true).start();
      OS first = sim.client.resource(SimCluster.os("os-v2", "KubeOS v2", 1)).create();
      // creation timestamps have second resolution: the later OS must be created a second later
      java.time.Instant created =
          java.time.Instant.parse(first.getMetadata().getCreationTimestamp());
      await()
          .atMost(LONG)
          .pollInterval(Duration.ofMillis(50))
          .until(() -> java.time.Instant.now().getEpochSecond() > created.getEpochSecond());
      OS later = SimCluster.os("os-v3", "KubeOS v3", 3);
      later.getSpec().setNodeselector("all-label");
      sim.client.resource(later).create();
      OS bad = SimCluster.os("os-bad", "KubeOS v9", 3);
      bad.getSpec().setNodeselector("batch");
      bad.getSpec().setTimewindow(new dev.kubeos.crd.TimeWindow("25:00:00", "26:00:00"));
      sim.client.resource(bad).create();
      try (Operator op =
          sim.operator("a", null, new ConcurrentHashMap<>(), new OperatorMetrics())) {
        op.start();
        await().atMost(LONG).until(() -> count(sim, "KubeOS v2") == 3);
        OS v3 = sim.client.resources(OS.class).inNamespace("default").withName("os-v3").get();
        assertThat(condition(v3, OSStatus.HALTED).getReason()).isEqualTo(Statuses.CONFLICT);
        assertThat(condition(v3, OSStatus.HALTED).getMessage()).contains("default/os-v2");
        OS b = sim.client.resources(OS.class).inNamespace("default").withName("os-bad").get();
        await()
            .atMost(LONG)
            .until(
                () ->
                    isTrue(
                        sim.client
                            .resources(OS.class)
                            .inNamespace("default")
                            .withName("os-bad")
                            .get(),
                        OSStatus.HALTED));
        b = sim.client.resources(OS.class).inNamespace("default").withName("os-bad").get();
        assertThat(condition(b, OSStatus.HALTED).getReason()).isEqualTo("InvalidSpec");
        assertThat(sim.assignments.keySet()).containsExactlyInAnyOrder("n000", "n001", "n002");
        assertThat(reasons(sim)).containsKey(Statuses.CONFLICT);
      }
    }
  }

  /**
   * The proxies register their nodes in {@code default} (the operator's {@code
   * --osinstance-namespace}): an OS asking for OSInstances elsewhere could never start a node, so
   * it is refused, saying why, and nothing is written for it.
   */
  @Test
  void osWithAnotherInstanceNamespaceIsRefused() {
    try (SimCluster sim = new SimCluster(WORK)) {
      sim.nodes(2, null, true).start();
      OS os = SimCluster.os("os-v2", "KubeOS v2", 1);
      os.getSpec().setOsinstancenamespace("elsewhere");
      sim.client.resource(os).create();
      try (Operator op =
          sim.operator("a", null, new ConcurrentHashMap<>(), new OperatorMetrics())) {
        op.start();
        await().atMost(LONG).until(() -> isTrue(sim.os(), OSStatus.HALTED));
        Condition halted = condition(sim.os(), OSStatus.HALTED);
        assertThat(halted.getReason()).isEqualTo(Statuses.INSTANCE_NAMESPACE);
        assertThat(halted.getMessage())
            .contains("'elsewhere'", "'default'", "--namespace", "--osinstance-namespace");
        assertThat(isTrue(sim.os(), OSStatus.PROGRESSING)).isFalse();
        await().atMost(LONG).until(() -> reasons(sim).containsKey(Statuses.INSTANCE_NAMESPACE));
        assertThat(sim.assignments).isEmpty();
      }
    }
  }

  @Test
  void onlyTheLeaderActsAndTheOtherTakesOver() {
    try (SimCluster sim = new SimCluster(Duration.ofMillis(300))) {
      sim.nodes(6, null, true).start();
      sim.client.resource(SimCluster.os("os-v2", "KubeOS v2", 1)).create();
      Map<String, AtomicInteger> ra = new ConcurrentHashMap<>();
      Map<String, AtomicInteger> rb = new ConcurrentHashMap<>();
      Operator a = sim.operator("a", "kube-system", ra, new OperatorMetrics());
      Operator b = sim.operator("b", "kube-system", rb, new OperatorMetrics());
      a.start();
      await().atMost(LONG).until(a::leading);
      b.start();
      await().atMost(LONG).until(() -> sim.assignments.size() >= 2);
      assertThat(b.leading()).isFalse();
      assertThat(rb.keySet()).noneMatch(k -> k.startsWith("PATCH") || k.startsWith("POST"));
      a.close();
      await().atMost(LONG).until(b::leading);
      await().atMost(LONG).until(() -> count(sim, "KubeOS v2") == 6);
      assertThat(rb).containsKey("PATCH osinstances");
      assertThat(sim.assignments.values()).allMatch(x -> x.get() == 1);
      assertThat(sim.maxAssigned.get()).isEqualTo(1);
      b.close();
    }
  }

  /** Waits until the operator ran {@code n} more reconcile passes. */
  static void awaitPasses(Operator op, int n) {
    int from = op.passes();
    await().atMost(LONG).until(() -> op.passes() >= from + n);
  }

  static Node ready(Node n) {
    n.getStatus().getConditions().get(0).setStatus("True");
    return n;
  }

  static long count(SimCluster sim, String image) {
    return sim.client.nodes().list().getItems().stream()
        .filter(n -> image.equals(n.getStatus().getNodeInfo().getOsImage()))
        .count();
  }

  static boolean unmarked(SimCluster sim) {
    return sim.client.nodes().list().getItems().stream()
        .allMatch(
            n ->
                n.getMetadata().getAnnotations() == null
                    || !n.getMetadata()
                        .getAnnotations()
                        .containsKey(Reconciler.SCALE_DOWN_DISABLED));
  }

  static Map<String, Long> reasons(SimCluster sim) {
    return sim.client.v1().events().inNamespace("default").list().getItems().stream()
        .collect(Collectors.groupingBy(Event::getReason, Collectors.counting()));
  }

  static Condition condition(OS os, String type) {
    return os.getStatus().getConditions().stream()
        .filter(c -> type.equals(c.getType()))
        .findFirst()
        .orElseThrow();
  }

  static boolean isTrue(OS os, String type) {
    return os.getStatus() != null && Statuses.isTrue(os.getStatus(), type);
  }

  static String get(int port) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }
}
