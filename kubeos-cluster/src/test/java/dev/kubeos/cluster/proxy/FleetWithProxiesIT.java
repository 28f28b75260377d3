package dev.kubeos.cluster.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kubeos.api.crd.OS;
import dev.kubeos.api.crd.OSInstance;
import dev.kubeos.api.crd.OSInstanceSpec;
import dev.kubeos.api.crd.OpsType;
import dev.kubeos.cluster.FleetFixtures;
import dev.kubeos.cluster.operator.Operator;
import dev.kubeos.cluster.operator.OperatorConfig;
import dev.kubeos.cluster.operator.OperatorMetrics;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The real operator with one real {@link NodeProxy} per node (each with a {@link MemoryAgent} that
 * "reboots" by changing the node's osImage after a delay) on fabric8's CRUD mock server with the
 * Eviction subresource. A monitor watches nodes and OSInstances and, on every event, counts the
 * selected nodes that are unavailable (cordoned, NotReady, or assigned an operation).
 */
class FleetWithProxiesIT {
  private static final String NS = Fixtures.NS;
  private static final String V1 = "KubeOS v1";
  private static final String V2 = "KubeOS v2";

  // held in a field: java.util.logging keeps loggers weakly
  private static final java.util.logging.Logger QUIET =
      java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

  static {
    QUIET.setLevel(java.util.logging.Level.WARNING);
  }

  @Test
  void twentyNodesConvergeWithinMaxUnavailable() throws Exception {
    rollout(20, 5, Duration.ofMillis(200), Duration.ofSeconds(60));
  }

  /** 200 nodes, maxunavailable 20, 1 s proxy polls: about 40 s on a 2-core machine. */
  @Test
  void twoHundredNodesConvergeWithinMaxUnavailable() throws Exception {
    rollout(200, 20, Duration.ofMillis(1000), Duration.ofSeconds(150));
  }

  private void rollout(int n, int maxUnavailable, Duration poll, Duration limit) throws Exception {
    try (MockCluster cluster = new MockCluster();
        KubernetesClient admin = cluster.client();
        KubernetesClient proxies = cluster.client();
        KubernetesClient operatorClient = cluster.client();
        OperatorMetrics metrics = new OperatorMetrics()) {
      for (String f : new String[] {"os", "osinstances"}) {
        Path crd = Path.of("..", "deploy", "crds", f + ".upgrade.openeuler.org-v1.yml");
        admin.apiextensions().v1().customResourceDefinitions().load(crd.toFile()).create();
      }
      List<String> names = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        String name = String.format("n%03d", i);
        names.add(name);
        createNode(admin, name);
      }
      Monitor monitor = new Monitor(names);
      SharedIndexInformer<Node> nodeWatch = admin.nodes().inform(monitor.nodes(), 0);
      SharedIndexInformer<OSInstance> instWatch =
          admin.resources(OSInstance.class).inNamespace(NS).inform(monitor.instances(), 0);

      OS os = new OS();
      os.getMetadata().setName("os-v2");
      os.getMetadata().setNamespace(NS);
      os.getSpec().setOsversion(V2);
      os.getSpec().setOpstype(OpsType.UPGRADE);
      os.getSpec().setImagetype("disk");
      os.getSpec().setImageurl("https://images.invalid/kubeos.tar");
      os.getSpec().setChecksum("ab".repeat(32));
      os.getSpec().setMaxunavailable(maxUnavailable);
      os.getSpec().setTimeinterval(0);

      ProxyConfig config =
          new ProxyConfig(
              poll, Duration.ofSeconds(60), Duration.ofSeconds(60), 5, poll, poll.multipliedBy(4));
      AtomicBoolean running = new AtomicBoolean(true);
      Map<String, MemoryAgent> agents = new HashMap<>();
      List<Thread> threads = new ArrayList<>();
      long t0 = System.nanoTime();
      for (String name : names) {
        MemoryAgent agent = new MemoryAgent(proxies, name, 200);
        agents.put(name, agent);
        NodeProxy proxy = new NodeProxy(proxies, name, NS, agent, config, Clock.systemUTC());
        Thread t =
            new Thread(
                () -> {
                  try {
                    proxy.run(running::get);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                },
                "proxy-" + name);
        t.setDaemon(true);
        t.start();
        threads.add(t);
      }
      OperatorConfig cfg =
          OperatorConfig.of(null, null, "fleet")
              .withTimings(
                  Duration.ofSeconds(2),
                  Duration.ofMillis(1500),
                  Duration.ofMillis(200),
                  Duration.ofMillis(20),
                  Duration.ofSeconds(5));
      try (Operator operator = new Operator(operatorClient, cfg, metrics, Clock.systemUTC())) {
        admin.resource(os).create();
        operator.start();
        await().atMost(limit).pollInterval(Duration.ofMillis(250)).until(() -> converged(admin, n));
        double seconds = (System.nanoTime() - t0) / 1e9;
        running.set(false);
        for (Thread t : threads) {
          t.join(5_000);
        }
        nodeWatch.close();
        instWatch.close();
        System.out.printf(
            "FleetWithProxiesIT: %d nodes, maxunavailable %d, poll %d ms: converged in %.1f s,"
                + " at most %d unavailable at once, %d evictions%n",
            n,
            maxUnavailable,
            poll.toMillis(),
            seconds,
            monitor.maxUnavailable.get(),
            cluster.dispatcher.evictions.size());
        assertThat(monitor.maxUnavailable.get()).isBetween(1, maxUnavailable);
        for (String name : names) {
          MemoryAgent agent = agents.get(name);
          assertThat(agent.count("upgrade")).as(name + " reboots").isEqualTo(1);
          assertThat(agent.count("prepare_upgrade " + V2)).as(name + " staged").isEqualTo(1);
          assertThat(monitor.imageChanges.get(name).get()).as(name + " osImage").isEqualTo(1);
        }
        // every app pod was evicted (201) exactly once; none refused
        assertThat(cluster.dispatcher.evictions)
            .hasSize(2 * n)
            .allMatch(e -> e.code() == 201)
            .extracting(EvictionDispatcher.Eviction::pod)
            .doesNotHaveDuplicates();
      } finally {
        running.set(false);
      }
    }
  }

  private static boolean converged(KubernetesClient c, int n) {
    OS os = c.resources(OS.class).inNamespace(NS).withName("os-v2").get();
    if (os.getStatus() == null || os.getStatus().getAtTarget() != n) {
      return false;
    }
    for (OSInstance i : c.resources(OSInstance.class).inNamespace(NS).list().getItems()) {
      if (!OSInstanceSpec.IDLE.equals(i.getSpec().getNodestatus())
          || i.getStatus() == null
          || !"Done".equals(i.getStatus().getPhase())) {
        return false;
      }
    }
    for (Node node : c.nodes().list().getItems()) {
      if (Boolean.TRUE.equals(node.getSpec().getUnschedulable())
          || !V2.equals(node.getStatus().getNodeInfo().getOsImage())) {
        return false;
      }
    }
    return true;
  }

  /** A ready 4 CPU / 8 GiB node at v1 with two replicated app pods and its idle OSInstance. */
  private static void createNode(KubernetesClient c, String name) {
    c.nodes().resource(FleetFixtures.node(name, V1, true, null)).create();
    for (int p = 0; p < 2; p++) {
      c.pods().resource(FleetFixtures.appPod(name + "-app-" + p, NS, name, true)).create();
    }
    FleetFixtures.createIdleInstance(c, NS, name);
  }

  /** Unavailability as the planner counts it, recomputed on every watch event. */
  static final class Monitor {
    final AtomicInteger maxUnavailable = new AtomicInteger();
    final Map<String, AtomicInteger> imageChanges = new HashMap<>();
    private final Map<String, Boolean> cordonedOrNotReady = new HashMap<>();
    private final Map<String, Boolean> assigned = new HashMap<>();
    private final Map<String, String> image = new HashMap<>();

    Monitor(List<String> names) {
      for (String n : names) {
        imageChanges.put(n, new AtomicInteger());
      }
    }

    private synchronized void node(Node n) {
      String name = n.getMetadata().getName();
      boolean notReady =
          n.getStatus().getConditions().stream()
              .noneMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
      cordonedOrNotReady.put(name, notReady || Boolean.TRUE.equals(n.getSpec().getUnschedulable()));
      String img = n.getStatus().getNodeInfo().getOsImage();
      String before = image.put(name, img);
      if (before != null && !before.equals(img)) {
        imageChanges.get(name).incrementAndGet();
      }
      count();
    }

    private synchronized void instance(OSInstance i) {
      assigned.put(
          i.getMetadata().getName(), !OSInstanceSpec.IDLE.equals(i.getSpec().getNodestatus()));
      count();
    }

    private void count() {
      int down = 0;
      for (String n : imageChanges.keySet()) {
        if (Boolean.TRUE.equals(cordonedOrNotReady.get(n))
            || Boolean.TRUE.equals(assigned.get(n))) {
          down++;
        }
      }
      maxUnavailable.accumulateAndGet(down, Math::max);
    }

    ResourceEventHandler<Node> nodes() {
      return new ResourceEventHandler<>() {
        @Override
        public void onAdd(Node n) {
          node(n);
        }

        @Override
        public void onUpdate(Node o, Node n) {
          node(n);
        }

        @Override
        public void onDelete(Node n, boolean unknown) {}
      };
    }

    ResourceEventHandler<OSInstance> instances() {
      return new ResourceEventHandler<>() {
        @Override
        public void onAdd(OSInstance i) {
          instance(i);
        }

        @Override
        public void onUpdate(OSInstance o, OSInstance i) {
          instance(i);
        }

        @Override
        public void onDelete(OSInstance i, boolean unknown) {}
      };
    }
  }
}
