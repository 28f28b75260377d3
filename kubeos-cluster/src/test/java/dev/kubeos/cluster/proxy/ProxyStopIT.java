package dev.kubeos.cluster.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kubeos.crd.OS;
import dev.kubeos.crd.OpsType;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * A proxy asked to stop stops while one of its API calls is stalled: the call is cancelled, not
 * waited out (what a proxy pod needs on SIGTERM). Every stalled call here would last ten minutes or
 * an hour; {@link NodeProxy#stop} must return with the loop ended within its grace plus 30 s.
 */
class ProxyStopIT {
  private static final Duration GRACE = Duration.ofMillis(200);
  private static final Duration CANCEL_BOUND = Duration.ofSeconds(30);

  /** The API server accepts the connection and never answers (the proxy's first call stalls). */
  @Test
  void stopsWhileItsFirstApiCallIsNeverAnswered() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      List<Socket> accepted = new CopyOnWriteArrayList<>();
      Thread acceptor =
          new Thread(
              () -> {
                while (true) {
                  try {
                    accepted.add(server.accept()); // held open, never read nor answered
                  } catch (IOException e) {
                    return;
                  }
                }
              },
              "silent-api-server");
      acceptor.setDaemon(true);
      acceptor.start();
      Config config =
          new ConfigBuilder(Config.empty())
              .withMasterUrl("http://127.0.0.1:" + server.getLocalPort())
              .withRequestTimeout((int) Duration.ofMinutes(10).toMillis())
              .withRequestRetryBackoffLimit(0)
              .build();
      List<Throwable> crashes = new CopyOnWriteArrayList<>();
      try (KubernetesClient client = new KubernetesClientBuilder().withConfig(config).build()) {
        MemoryAgent agent = new MemoryAgent(client, "n1", 0);
        NodeProxy proxy =
            new NodeProxy(client, "n1", Fixtures.NS, agent, Driver.FAST, Clock.systemUTC());
        proxy.start((t, e) -> crashes.add(e));
        // the proxy's first request is on the wire and will never be answered
        await().atMost(Duration.ofMinutes(1)).until(() -> !accepted.isEmpty());

        long t0 = System.nanoTime();
        boolean stopped = proxy.stop(GRACE, CANCEL_BOUND);
        System.out.printf(
            "ProxyStopIT: stopped during a stalled call in %d ms%n",
            (System.nanoTime() - t0) / 1_000_000);

        assertThat(stopped).as("the loop ended").isTrue();
        assertThat(proxy.isRunning()).isFalse();
        assertThat(crashes).isEmpty();
        assertThat(agent.calls).isEmpty();
      } finally {
        for (Socket s : accepted) {
          s.close();
        }
      }
    }
  }

  /**
   * Mid-upgrade, cordoned and waiting in Draining for the operator, the proxy's read of the OS
   * resource stalls; the proxy is stopped (cancelled in Draining) and a new one, on a new client,
   * finishes the upgrade once the operator's part drained the node: every phase once, one reboot.
   */
  @Test
  void stopsWhileAReadStallsInDrainingAndTheNextProxyFinishes() throws Exception {
    try (MockCluster cluster = new MockCluster();
        KubernetesClient admin = cluster.client()) {
      Fixtures.node(admin, "n1", "KubeOS v1", false);
      Fixtures.pod(admin, "web-1", "n1", "ReplicaSet", false, "web");
      OS os = Fixtures.os(admin, OpsType.UPGRADE, "KubeOS v2", 600);
      os.getSpec().setSysconfigs(Fixtures.sysconfigs("s1", "net.ipv4.ip_forward", "1"));
      Fixtures.instance(admin, "n1", os, "upgrade");
      MemoryAgent agent = new MemoryAgent(admin, "n1", 50);
      Driver driver = new Driver(admin, "n1");
      List<Throwable> crashes = new CopyOnWriteArrayList<>();

      try (KubernetesClient first = cluster.client()) {
        NodeProxy proxy = driver.proxy(first, agent, Driver.FAST);
        proxy.start((t, e) -> crashes.add(e));
        // no operator yet: the proxy cordons, records Draining and waits there
        await()
            .atMost(Duration.ofMinutes(1))
            .until(() -> "Draining".equals(driver.instance().getStatus().getPhase()));
        cluster.dispatcher.stall = call -> call.startsWith("GET ") && call.contains("/os/");
        await().atMost(Duration.ofMinutes(1)).until(() -> !cluster.dispatcher.stalled.isEmpty());
        assertThat(proxy.stop(GRACE, CANCEL_BOUND)).as("the loop ended").isTrue();
        assertThat(proxy.isRunning()).isFalse();
      }
      assertThat(cluster.dispatcher.evictions).as("the proxy evicts nothing").isEmpty();
      driver.note();
      assertThat(driver.phases).last().isEqualTo("Draining");
      assertThat(agent.count("upgrade")).as("no reboot of an undrained node").isZero();

      cluster.dispatcher.stall = call -> false;
      try (KubernetesClient second = cluster.client()) {
        driver.run(driver.proxy(second, agent, Driver.FAST), 100);
      }
      // the new proxy resumes in Draining: the phases before it are not repeated
      assertThat(driver.phases)
          .isEqualTo(ProxyRestartIT.ALL.subList(ProxyRestartIT.ALL.indexOf("Draining"), 8));
      assertThat(agent.count("prepare_upgrade KubeOS v2")).isEqualTo(1);
      assertThat(agent.count("upgrade")).isEqualTo(1);
      assertThat(admin.pods().inNamespace(Fixtures.NS).withName("web-1").get()).isNull();
      assertThat(crashes).isEmpty();
    }
  }
}
