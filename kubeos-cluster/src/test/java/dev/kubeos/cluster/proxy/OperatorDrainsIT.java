package dev.kubeos.cluster.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kubeos.crd.DrainReport;
import dev.kubeos.crd.OSInstance;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The drain as the operator does it for the proxies, with the real {@link NodeProxy}s and the real
 * operator on the mock API server ({@link ProxyFleet}): each proxy stages, cordons its node and
 * records Draining; the operator evicts that node's pods (PodDisruptionBudgets respected) and
 * answers in {@code status.drain}; the proxy reboots on "drained", fails on "failed"; the operator
 * hands every node back. The proxies make no pod or eviction call and write no OSInstance spec.
 */
class OperatorDrainsIT {
  private static final String NS = ProxyFleet.NS;

  /** Bounds a wait for a state; generous, never waited out in a healthy run. */
  private static final Duration LONG = Duration.ofMinutes(3);

  /** The drain timeout of the OS: the PDB-blocked drain ends there. */
  private static final int DRAIN_TIMEOUT_S = 4;

  @Test
  void theOperatorDrainsTheProxiesRebootOnlyDrainedNodesAndHandsEveryNodeBack() throws Exception {
    try (ProxyFleet fleet = new ProxyFleet(3, 0, Duration.ofMillis(200), 100)) {
      String blocked = fleet.selected.get(2);
      List<String> healthy = fleet.selected.subList(0, 2);
      fleet.blockDrain(blocked);
      fleet.startProxies();
      fleet.createOs(3, s -> s.setDraintimeout(DRAIN_TIMEOUT_S));
      Instant t0 = Instant.now();
      fleet.startOperator();

      await()
          .atMost(LONG)
          .pollInterval(Duration.ofMillis(200))
          .until(() -> fleet.converged(Set.of(blocked)) && handedBack(fleet.instance(blocked)));

      // the healthy nodes: staged, then drained by the operator, then rebooted; each app pod
      // evicted once, through the Eviction API
      for (String n : healthy) {
        assertThat(fleet.nodeEvents(n))
            .as(n + ": staging comes before the drain, the reboot after it")
            .containsExactly("Staged", "Draining", "Rebooting", "Rebooted", "Upgraded");
        assertThat(fleet.agents.get(n).count("upgrade")).as(n).isEqualTo(1);
        assertThat(fleet.instance(n).getStatus().getDrain())
            .satisfies(
                d -> {
                  assertThat(d.getResult()).isEqualTo(DrainReport.DRAINED);
                  assertThat(d.getMessage()).isEqualTo("drained 2 pods");
                });
        assertThat(fleet.cluster.dispatcher.evictions)
            .filteredOn(e -> e.pod().startsWith(NS + "/" + n + "-"))
            .extracting(EvictionDispatcher.Eviction::pod, EvictionDispatcher.Eviction::code)
            .containsExactlyInAnyOrder(
                org.assertj.core.groups.Tuple.tuple(NS + "/" + n + "-app-0", 201),
                org.assertj.core.groups.Tuple.tuple(NS + "/" + n + "-app-1", 201));
      }

      // the blocked node: every eviction refused (429) until the drain timeout, then the
      // operator's "failed" with the pods' names; no reboot, uncordoned, handed back
      OSInstance b = fleet.instance(blocked);
      assertThat(b.getStatus().getPhase()).isEqualTo("Failed");
      assertThat(b.getStatus().getDrain().getResult()).isEqualTo(DrainReport.FAILED);
      assertThat(b.getStatus().getMessage())
          .contains("drain did not finish by the drain timeout (" + DRAIN_TIMEOUT_S + " s)")
          .contains(NS + "/" + blocked + "-app-0")
          .contains(NS + "/" + blocked + "-app-1");
      assertThat(fleet.agents.get(blocked).count("upgrade")).as("never rebooted").isZero();
      assertThat(fleet.node(blocked).getSpec().getUnschedulable()).as("uncordoned").isNull();
      assertThat(fleet.monitor().everCordoned(blocked)).isTrue();
      assertThat(fleet.nodeEvents(blocked))
          .containsExactly("Staged", "Draining", "Warning: DrainFailed");
      assertThat(fleet.cluster.dispatcher.evictions)
          .filteredOn(e -> e.pod().startsWith(NS + "/" + blocked + "-"))
          .isNotEmpty()
          .allMatch(e -> e.code() == 429);
      assertThat(Duration.between(t0, Instant.now()))
          .as("the drain timeout was honoured, not cut short")
          .isGreaterThanOrEqualTo(Duration.ofSeconds(DRAIN_TIMEOUT_S));
      assertThat(fleet.osEvents()).contains("DrainFailed");

      // the proxies: no pod, no eviction, no spec write; only their own status and registration
      assertThat(fleet.proxyRequests.keySet())
          .as("the proxies' requests: " + fleet.proxyRequests)
          .noneMatch(k -> k.contains(" pods"))
          .noneMatch(k -> k.equals("PATCH osinstances") || k.equals("PUT osinstances"))
          .contains("PUT osinstances/status", "POST osinstances");
      assertThat(fleet.crashes).isEmpty();
    }
  }

  private static boolean handedBack(OSInstance i) {
    return i.getStatus() != null
        && "Failed".equals(i.getStatus().getPhase())
        && "idle".equals(i.getSpec().getNodestatus());
  }
}
