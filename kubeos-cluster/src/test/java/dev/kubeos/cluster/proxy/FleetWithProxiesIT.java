package dev.kubeos.cluster.proxy;

import static dev.kubeos.cluster.proxy.ProxyFleet.V1;
import static dev.kubeos.cluster.proxy.ProxyFleet.V2;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.crd.OSInstance;
import dev.kubeos.crd.OSStatus;
import io.fabric8.kubernetes.api.model.Condition;
import java.time.Duration;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.Test;

/**
 * The real operator with one real {@link NodeProxy} per node, each with a {@link MemoryAgent} that
 * "reboots" 100 ms after {@code upgrade} by changing the node's osImage and bootID, on fabric8's
 * CRUD mock server with the Eviction subresource ({@link ProxyFleet}). In every scenario the {@link
 * FleetMonitor} checks on every watch event that no more than {@code maxunavailable} selected nodes
 * are unavailable.
 *
 * <p>Scale is not the point here, the scenarios are: the test runs {@value #DEFAULT_NODES} nodes,
 * which the mock serves in milliseconds per request; the proxies share one client as a real fleet
 * shares one API server, and the mock's watches close without stalling it ({@link
 * WatchCloseOffEventLoop}). Every wait is for an observable state; its Awaitility bound only ends a
 * broken run. {@code bench/fleet-bench.sh} runs the same scenario with 200 nodes ({@code
 * -Dkubeos.fleet.nodes=200}) for the figures in docs/benchmarks.md.
 */
class FleetWithProxiesIT {
  static final int DEFAULT_NODES = 50;

  /** Selected nodes of the scenario run ({@code -Dkubeos.fleet.nodes}, at least 50). */
  private static final int NODES =
      Math.max(DEFAULT_NODES, Integer.getInteger("kubeos.fleet.nodes", DEFAULT_NODES));

  /** maxunavailable: 8 for 50 nodes, 20 for 200; the failing nodes all fall in the first batch. */
  private static final int MAX_UNAVAILABLE = Math.max(8, NODES / 10);

  private static final int OUTSIDE = Math.max(4, NODES / 20);
  private static final int DYING = Math.max(2, MAX_UNAVAILABLE / 4);
  private static final int KILLED = Math.max(3, MAX_UNAVAILABLE * 3 / 4);

  private static final Duration POLL = Duration.ofMillis(200);
  private static final long REBOOT_MS = 100;

  /** Bounds a wait for a state; generous, never waited out in a healthy run. */
  private static final Duration LONG = Duration.ofMinutes(3);

  /**
   * The drain timeout: the PDB-blocked drains end there (the test waits for it once); a healthy
   * drain (two evictions) takes well under a second even on a loaded machine.
   */
  private static final int DRAIN_TIMEOUT_S = 30;

  /**
   * The happy path, small enough to read its log: 20 nodes, maxunavailable 5, starting with no
   * OSInstance at all: each proxy registers its node, then the rollout runs.
   */
  @Test
  void twentyNodesConvergeWithinMaxUnavailable() throws Exception {
    try (ProxyFleet fleet = new ProxyFleet(20, 0, Duration.ofSeconds(1), REBOOT_MS)) {
      assertThat(fleet.instances()).as("no OSInstance before the proxies run").isEmpty();
      fleet.startProxies();
      assertThat(fleet.instances().values())
          .allSatisfy(
              i -> {
                assertThat(i.getSpec().getNodestatus()).isEqualTo("idle");
                assertThat(i.nodeName()).isEqualTo(i.getMetadata().getName());
                assertThat(i.getMetadata().getOwnerReferences())
                    .singleElement()
                    .satisfies(o -> assertThat(o.getKind()).isEqualTo("Node"))
                    .satisfies(o -> assertThat(o.getName()).isEqualTo(i.getMetadata().getName()));
              });
      fleet.createOs(5, s -> {});
      fleet.startOperator();
      awaitConverged(fleet, Set.of());
      fleet.log("converged");
      System.out.println(
          "FleetWithProxiesIT 20 nodes: proxy requests per upgraded node: "
              + fleet.proxyRequestsPerNode(20));
      assertThat(fleet.monitor().maxUnavailable()).isBetween(1, 5);
      assertUpgradedExactlyOnce(fleet, fleet.selected);
      assertEvictedOnce(fleet, fleet.selected);
      assertThat(fleet.crashes).isEmpty();
    }
  }

  /**
   * One run of {@value #DEFAULT_NODES} selected nodes (and a few outside the node selector) through
   * every situation, in order, each checked when it happens:
   *
   * <ol>
   *   <li>a time window two hours ahead: nothing is written;
   *   <li>the window moved around now: the rollout starts; six nodes of the first batch fail in the
   *       three ways a node can (the agent cannot stage, the trial boot falls back to v1 with a new
   *       bootID, a PodDisruptionBudget refuses every eviction until the drain timeout); the
   *       failure budget of 4 halts the rollout, the nodes in flight (the PDB-blocked ones among
   *       them) finish, and no node starts after the halt;
   *   <li>the budget raised: the rollout continues; pause stops new nodes while those in flight
   *       finish;
   *   <li>resume; the operator and some proxies are killed mid-rollout ({@link #DYING} right after
   *       requesting their node's reboot, up to {@link #KILLED} between two steps) and started
   *       again as new processes;
   *   <li>every other selected node reaches v2, staged once and rebooted once; the six failed nodes
   *       are never tried again; the outside nodes are never written.
   * </ol>
   */
  @Test
  void fleetThroughWindowFailuresHaltPauseAndRestarts() throws Exception {
    List<String> stageFails = List.of("n001", "n004");
    List<String> fallsBack = List.of("n002", "n006");
    List<String> pdbBlocked = List.of("n003", "n007");
    List<String> failing = new ArrayList<>();
    failing.addAll(stageFails);
    failing.addAll(fallsBack);
    failing.addAll(pdbBlocked);
    try (ProxyFleet fleet = new ProxyFleet(NODES, OUTSIDE, POLL, REBOOT_MS)) {
      stageFails.forEach(n -> fleet.agents.get(n).stageFails = ErrorCode.CHECKSUM_MISMATCH);
      fallsBack.forEach(n -> fleet.agents.get(n).bootsInto = V1);
      pdbBlocked.forEach(fleet::blockDrain);
      fleet.startProxies(); // they register their nodes: nothing else is written before the OS
      Map<String, String> before = fleet.versions();
      LocalTime now = LocalTime.now(ZoneOffset.UTC);
      fleet.createOs(
          MAX_UNAVAILABLE,
          s -> {
            // the four quick failures halt; the PDB-blocked drains fail later, while halted
            s.setFailurebudget(4);
            s.setDraintimeout(DRAIN_TIMEOUT_S);
            s.setTimewindow(new dev.kubeos.crd.TimeWindow(hms(now, 2), hms(now, 3)));
          });
      fleet.startOperator();

      // 1. outside the time window: the operator plans, reports why, and writes nothing else
      await()
          .atMost(LONG)
          .pollInterval(poll())
          .until(() -> reason(fleet, OSStatus.PROGRESSING).equals("Waiting:OUTSIDE_TIME_WINDOW"));
      awaitPasses(fleet, 2);
      fleet.log("outside the window: nothing written");
      assertThat(fleet.versions()).as("no node or OSInstance written").isEqualTo(before);
      assertThat(fleet.agents.values()).allMatch(a -> a.calls.isEmpty());
      assertThat(fleet.cluster.dispatcher.evictions).isEmpty();

      // 2. the window opens (now within it); the failures halt the rollout
      fleet.patchOsSpec(
          "{\"timewindow\":{\"starttime\":\""
              + hms(now, -1)
              + "\",\"endtime\":\""
              + hms(now, 1)
              + "\"}}");
      await().atMost(LONG).pollInterval(poll()).until(() -> fleet.isTrue(OSStatus.HALTED));
      fleet.log("halted");
      Condition halted = fleet.condition(OSStatus.HALTED);
      assertThat(halted.getReason()).isEqualTo("FailureBudgetExhausted");
      assertThat(halted.getMessage()).contains("spec.failurebudget is 4");
      Set<String> startedAtHalt = fleet.started(); // nodes in flight may finish
      // the PDB-blocked drains end at their drain timeout
      await()
          .atMost(Duration.ofSeconds(DRAIN_TIMEOUT_S).plus(LONG))
          .pollInterval(poll())
          .until(() -> idle(fleet));
      awaitPasses(fleet, 3);
      fleet.log("halted, nodes in flight finished");
      assertThat(fleet.started()).as("no node started after the halt").isEqualTo(startedAtHalt);
      assertThat(startedAtHalt).containsAll(failing).hasSizeLessThan(NODES);
      assertThat(fleet.isTrue(OSStatus.HALTED)).isTrue();
      assertThat(failedNodes(fleet)).as("failed nodes").isEqualTo(sorted(failing));
      assertThat(fleet.os().getStatus().getFailed()).isEqualTo(failing.size());
      assertThat(fleet.osEvents()).contains("Halted");
      assertFailures(fleet, stageFails, fallsBack, pdbBlocked);
      FleetMonitor seen = fleet.monitor();
      for (String n : fleet.selected) {
        if (!startedAtHalt.contains(n)) {
          assertThat(fleet.agents.get(n).calls).as(n + " untouched").isEmpty();
          assertThat(seen.everCordoned(n)).as(n).isFalse();
        }
      }

      // 3. the budget raised: the rollout continues; then pause
      fleet.patchOsSpec("{\"failurebudget\":10}");
      int more = MAX_UNAVAILABLE / 2;
      await()
          .atMost(LONG)
          .pollInterval(poll())
          .until(() -> atTarget(fleet) >= startedAtHalt.size() - failing.size() + more);
      assertThat(fleet.isTrue(OSStatus.HALTED)).isFalse();
      fleet.patchOsSpec("{\"pause\":true}");
      await().atMost(LONG).pollInterval(poll()).until(() -> fleet.isTrue(OSStatus.PAUSED));
      fleet.log("paused");
      Set<String> startedAtPause = fleet.started();
      await().atMost(LONG).pollInterval(poll()).until(() -> idle(fleet));
      awaitPasses(fleet, 3);
      fleet.log("paused, nodes in flight finished");
      assertThat(fleet.started()).as("no node started while paused").isEqualTo(startedAtPause);
      assertThat(startedAtPause).hasSizeBetween(startedAtHalt.size() + more, NODES - DYING);
      for (String n : startedAtPause) {
        assertThat(fleet.instance(n).getStatus().getPhase())
            .as(n + " finished")
            .isEqualTo(failing.contains(n) ? "Failed" : "Done");
      }

      // 4. resume; the next nodes' proxies die right after requesting the reboot
      List<String> dying = new ArrayList<>();
      for (String n : fleet.selected) {
        if (!startedAtPause.contains(n) && dying.size() < DYING) {
          dying.add(n);
          fleet.agents.get(n).dieAfterReboot = true;
        }
      }
      fleet.patchOsSpec("{\"pause\":false}");
      await()
          .atMost(LONG)
          .pollInterval(poll())
          .until(() -> dying.stream().noneMatch(fleet::proxyRunning));
      fleet.log(DYING + " proxies died after requesting the reboot");

      // kill the operator and the proxies of nodes in flight (between two of their steps)
      fleet.killOperator();
      List<String> killed = new ArrayList<>();
      for (String n : fleet.inFlight()) {
        if (!dying.contains(n) && killed.size() < KILLED) {
          killed.add(n);
        }
      }
      fleet.stopProxies(killed);
      List<String> stopped = new ArrayList<>(dying);
      stopped.addAll(killed);
      Map<String, String> phasesAtKill = phases(fleet, stopped);
      fleet.newProxyGeneration();
      stopped.forEach(fleet::startProxy);
      fleet.startOperator();
      fleet.log("operator and " + stopped.size() + " proxies restarted");

      // 5. every other selected node reaches v2
      List<String> upgraded = new ArrayList<>(fleet.selected);
      upgraded.removeAll(failing);
      awaitConverged(fleet, Set.copyOf(failing));
      fleet.log("converged");
      System.out.printf(
          "FleetWithProxiesIT: proxies killed in phases %s; at most %d of %d unavailable%n",
          new TreeSet<>(phasesAtKill.values()), fleet.monitor().maxUnavailable(), NODES);
      System.out.println(
          "FleetWithProxiesIT "
              + NODES
              + "+"
              + OUTSIDE
              + " nodes: proxy requests per upgraded node: "
              + fleet.proxyRequestsPerNode(upgraded.size()));
      // the dying proxies left their nodes Rebooting, for the new proxies to verify
      assertThat(phasesAtKill).containsValue("Rebooting");
      assertUpgradedExactlyOnce(fleet, upgraded);
      List<String> drained = new ArrayList<>(upgraded);
      drained.addAll(fallsBack); // drained before their trial boot fell back
      assertEvictedOnce(fleet, drained);
      // the failed nodes were not tried again (not after the budget was raised, nor the restarts)
      assertThat(failedNodes(fleet)).isEqualTo(sorted(failing));
      assertFailures(fleet, stageFails, fallsBack, pdbBlocked);
      assertThat(fleet.os().getStatus().getAtTarget()).isEqualTo(upgraded.size());
      assertThat(fleet.os().getStatus().getFailed()).isEqualTo(failing.size());
      Map<String, String> after = fleet.versions();
      for (String n : fleet.outside) {
        assertThat(fleet.agents.get(n).calls).as(n + " agent").isEmpty();
        assertThat(after.get("node/" + n)).as(n + " node").isEqualTo(before.get("node/" + n));
        assertThat(after.get("osinstance/" + n))
            .as(n + " OSInstance")
            .isEqualTo(before.get("osinstance/" + n));
      }
      assertThat(fleet.monitor().maxUnavailable()).isBetween(1, MAX_UNAVAILABLE);
      assertThat(fleet.crashes).isEmpty();
    }
  }

  /** Waits for convergence; if it never comes, says which nodes are not done and why. */
  private static void awaitConverged(ProxyFleet fleet, Set<String> failed) {
    try {
      await().atMost(LONG).pollInterval(poll()).until(() -> fleet.converged(failed));
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      throw new AssertionError("the fleet did not converge:\n" + fleet.unconverged(failed), e);
    }
  }

  /** Each failing node failed at v2 once, the way it was made to, and was left uncordoned at v1. */
  private static void assertFailures(
      ProxyFleet fleet, List<String> stageFails, List<String> fallsBack, List<String> pdbBlocked) {
    Map<String, OSInstance> inst = fleet.instances();
    FleetMonitor seen = fleet.monitor();
    List<String> failing = new ArrayList<>(stageFails);
    failing.addAll(fallsBack);
    failing.addAll(pdbBlocked);
    for (String n : failing) {
      assertThat(inst.get(n).getStatus().getPhase()).as(n).isEqualTo("Failed");
      assertThat(inst.get(n).getStatus().getTarget()).as(n).isEqualTo(V2);
      assertThat(fleet.node(n).getSpec().getUnschedulable()).as(n + " uncordoned").isNull();
      assertThat(fleet.node(n).getStatus().getNodeInfo().getOsImage()).as(n).isEqualTo(V1);
      assertThat(seen.assignments(n)).as(n + " assigned").isEqualTo(1);
    }
    for (String n : stageFails) {
      assertThat(inst.get(n).getStatus().getMessage())
          .contains("Staging failed")
          .contains("CHECKSUM_MISMATCH");
      assertThat(fleet.agents.get(n).calls).as(n).containsExactly("prepare_upgrade " + V2);
      assertThat(seen.everCordoned(n)).as(n + " never cordoned").isFalse();
      assertThat(fleet.nodeEvents(n)).containsExactly("Warning: Failed");
    }
    for (String n : fallsBack) {
      assertThat(inst.get(n).getStatus().getMessage())
          .contains("rebooted (bootID boot-" + n + "-0 -> boot-" + n + "-1)")
          .contains("fell back");
      assertThat(fleet.agents.get(n).count("upgrade")).as(n).isEqualTo(1);
      assertThat(fleet.agents.get(n).boots.get()).as(n).isEqualTo(1);
      assertThat(fleet.nodeEvents(n))
          .containsExactlyInAnyOrder("Staged", "Draining", "Rebooting", "Warning: Failed");
    }
    for (String n : pdbBlocked) {
      assertThat(inst.get(n).getStatus().getMessage())
          .contains("drain did not finish by the drain timeout")
          .contains(NS + "/" + n + "-app-0")
          .contains(NS + "/" + n + "-app-1");
      assertThat(fleet.agents.get(n).count("upgrade")).as(n + ": never rebooted").isZero();
      assertThat(seen.everCordoned(n)).as(n + " was cordoned").isTrue();
      assertThat(fleet.nodeEvents(n))
          .containsExactlyInAnyOrder("Staged", "Draining", "Warning: DrainFailed");
      assertThat(fleet.cluster.dispatcher.evictions)
          .filteredOn(e -> e.pod().startsWith(NS + "/" + n + "-"))
          .isNotEmpty()
          .allMatch(e -> e.code() == 429);
    }
  }

  private static List<String> sorted(Collection<String> c) {
    return c.stream().sorted().toList();
  }

  private static final String NS = ProxyFleet.NS;

  /** Staged once, rebooted once (one bootID and one osImage change), assigned once, at V2. */
  private static void assertUpgradedExactlyOnce(ProxyFleet fleet, Collection<String> nodes) {
    Map<String, List<String>> events = fleet.allNodeEvents();
    FleetMonitor seen = fleet.monitor();
    for (String n : nodes) {
      MemoryAgent agent = fleet.agents.get(n);
      assertThat(agent.count("prepare_upgrade " + V2)).as(n + " staged").isEqualTo(1);
      assertThat(agent.count("upgrade")).as(n + " asked to reboot").isEqualTo(1);
      assertThat(agent.boots.get()).as(n + " rebooted").isEqualTo(1);
      assertThat(seen.imageChanges(n)).as(n + " osImage changes").isEqualTo(1);
      assertThat(seen.assignments(n)).as(n + " assigned").isEqualTo(1);
      assertThat(fleet.node(n).getStatus().getNodeInfo().getOsImage()).as(n).isEqualTo(V2);
      assertThat(events.get(n)).as(n + " Events").containsOnlyOnce("Upgraded");
    }
  }

  /** Every app pod of the nodes evicted exactly once (201), and no other pod. */
  private static void assertEvictedOnce(ProxyFleet fleet, Collection<String> nodes) {
    List<String> expected = new ArrayList<>();
    for (String n : nodes) {
      expected.add(NS + "/" + n + "-app-0");
      expected.add(NS + "/" + n + "-app-1");
    }
    assertThat(fleet.cluster.dispatcher.evictions)
        .filteredOn(e -> e.code() == 201)
        .extracting(EvictionDispatcher.Eviction::pod)
        .containsExactlyInAnyOrderElementsOf(expected);
  }

  /** Failed nodes, sorted; their messages printed. */
  private static List<String> failedNodes(ProxyFleet fleet) {
    List<String> failed = new ArrayList<>();
    fleet
        .instances()
        .forEach(
            (n, i) -> {
              if (i.getStatus() != null && "Failed".equals(i.getStatus().getPhase())) {
                failed.add(n);
                System.out.println("failed: " + n + ": " + i.getStatus().getMessage());
              }
            });
    return failed.stream().sorted().toList();
  }

  private static boolean idle(ProxyFleet fleet) {
    return fleet.inFlight().isEmpty();
  }

  private static int atTarget(ProxyFleet fleet) {
    var s = fleet.os().getStatus();
    return s == null ? 0 : s.getAtTarget();
  }

  /** Waits until the operator ran {@code n} more reconcile passes. */
  private static void awaitPasses(ProxyFleet fleet, int n) {
    int from = fleet.operatorPasses();
    IntSupplier passes = fleet::operatorPasses;
    await().atMost(LONG).pollInterval(poll()).until(() -> passes.getAsInt() >= from + n);
  }

  private static String reason(ProxyFleet fleet, String type) {
    Condition c = fleet.condition(type);
    return c == null || c.getReason() == null ? "" : c.getReason();
  }

  private static Map<String, String> phases(ProxyFleet fleet, List<String> nodes) {
    Map<String, OSInstance> inst = fleet.instances();
    Map<String, String> p = new java.util.TreeMap<>();
    for (String n : nodes) {
      var st = inst.get(n).getStatus();
      p.put(n, st == null ? "(not begun)" : st.getPhase());
    }
    return p;
  }

  /** {@code now} plus {@code hours}, as a daily time window's HH:MM:SS. */
  private static String hms(LocalTime now, int hours) {
    return now.plusHours(hours).format(DateTimeFormatter.ofPattern("HH:mm:ss"));
  }

  private static Duration poll() {
    return Duration.ofMillis(500);
  }
}
