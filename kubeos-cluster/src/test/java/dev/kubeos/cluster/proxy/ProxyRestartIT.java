package dev.kubeos.cluster.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.crd.OS;
import dev.kubeos.crd.OpsType;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A proxy stopped after each of its steps, and a new proxy (new client, as a new process) started:
 * the node still goes through every phase once, and the reboot is requested exactly once.
 */
class ProxyRestartIT {
  static final List<String> ALL =
      List.of(
          "Staging",
          "Cordoning",
          "Draining",
          "Rebooting",
          "Verifying",
          "Configuring",
          "Uncordoning",
          "Done");

  @ParameterizedTest(name = "stopped after {0} steps")
  @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7, 8})
  void aRestartedProxyResumesWithoutRepeatingTheReboot(int steps) throws Exception {
    try (MockCluster cluster = new MockCluster()) {
      KubernetesClient admin = cluster.client();
      setUp(admin);
      Driver driver = new Driver(admin, "n1");
      MemoryAgent agent = new MemoryAgent(admin, "n1", 150);
      try (KubernetesClient first = cluster.proxyClient()) {
        driver.run(driver.proxy(first, agent, Driver.FAST), steps);
      }
      try (KubernetesClient second = cluster.proxyClient()) {
        driver.run(driver.proxy(second, agent, Driver.FAST), 100);
      }
      assertThat(driver.phases).isEqualTo(ALL);
      assertThat(agent.count("upgrade")).isEqualTo(1);
      assertThat(agent.count("configure s1")).isGreaterThanOrEqualTo(1);
      assertThat(admin.pods().inNamespace("default").withName("web-1").get()).isNull();
      assertThat(admin.nodes().withName("n1").get().getSpec().getUnschedulable())
          .isNotEqualTo(Boolean.TRUE);
      admin.close();
    }
  }

  @Test
  void aProxyKilledRightAfterRequestingTheRebootNeverRequestsItAgain() throws Exception {
    try (MockCluster cluster = new MockCluster()) {
      KubernetesClient admin = cluster.client();
      setUp(admin);
      Driver driver = new Driver(admin, "n1");
      MemoryAgent agent = new MemoryAgent(admin, "n1", 300);
      agent.dieAfterReboot = true;
      try (KubernetesClient first = cluster.proxyClient()) {
        assertThatThrownBy(() -> driver.run(driver.proxy(first, agent, Driver.FAST), 100))
            .isInstanceOf(MemoryAgent.ProxyKilled.class);
      }
      // the dead proxy recorded Rebooting before it asked for the reboot; the node may be back
      // (a loaded machine) before the second proxy's first pass, which then goes on at once
      driver.note();
      try (KubernetesClient second = cluster.proxyClient()) {
        driver.run(driver.proxy(second, agent, Driver.FAST), 100);
      }
      assertThat(driver.phases).isEqualTo(ALL);
      assertThat(agent.count("upgrade")).isEqualTo(1);
      admin.close();
    }
  }

  private static void setUp(KubernetesClient c) {
    Fixtures.node(c, "n1", "KubeOS v1", false);
    Fixtures.pod(c, "web-1", "n1", "ReplicaSet", false, "web");
    OS os = Fixtures.os(c, OpsType.UPGRADE, "KubeOS v2", 60);
    os.getSpec().setSysconfigs(Fixtures.sysconfigs("s1", "net.ipv4.ip_forward", "1"));
    Fixtures.instance(c, "n1", os, "upgrade");
  }
}
