package dev.kubeos.cluster.operator;

import dev.kubeos.cluster.FleetFixtures;
import dev.kubeos.cluster.proxy.MockCluster;
import dev.kubeos.crd.OS;
import dev.kubeos.crd.OSInstance;
import dev.kubeos.crd.OSInstanceSpec;
import dev.kubeos.crd.OSInstanceStatus;
import dev.kubeos.crd.OSSpec;
import dev.kubeos.crd.OpsType;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.http.BasicBuilder;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.Interceptor;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A simulated cluster on fabric8's mock server in CRUD mode ({@link MockCluster}: watches close
 * without stalling it): nodes with pods running {@code KubeOS v1}, an idle OSInstance per node (as
 * each node's proxy registers it), and one actor that plays every node's proxy and agent: on
 * assignment it reports {@code Upgrading}, after {@code work} it either fails (nodes in {@code
 * failing}) or changes the node's osImage to the target and reports {@code Done}; as with the real
 * proxy, the operator then hands the node back ({@code spec.nodestatus: idle}). A monitor counts
 * assigned OSInstances on every watch event (one ordered stream from the server) and keeps the
 * maximum.
 */
final class SimCluster implements AutoCloseable {
  static final String NS = "default";
  final MockCluster cluster;
  final KubernetesMockServer server;
  final KubernetesClient client;
  final Set<String> failing = ConcurrentHashMap.newKeySet();
  final Map<String, AtomicInteger> assignments = new ConcurrentHashMap<>();
  final Set<String> annotatedWhileWorking = ConcurrentHashMap.newKeySet();
  final AtomicInteger maxAssigned = new AtomicInteger();

  /** System.nanoTime() of every finish report (Done or Failed) and every assignment seen. */
  final java.util.Queue<Long> idles = new java.util.concurrent.ConcurrentLinkedQueue<>();

  final java.util.Queue<Long> starts = new java.util.concurrent.ConcurrentLinkedQueue<>();
  private final Set<String> working = ConcurrentHashMap.newKeySet();
  private final Map<String, Boolean> assigned = new ConcurrentHashMap<>();
  private final ScheduledExecutorService actors = Executors.newScheduledThreadPool(8);
  private static final PatchContext MERGE = PatchContext.of(PatchType.JSON_MERGE);
  private final Duration work;
  private SharedIndexInformer<OSInstance> watch;

  // held in a field: java.util.logging keeps loggers weakly, a level set on a dropped one is lost
  private static final java.util.logging.Logger QUIET =
      java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

  static {
    QUIET.setLevel(java.util.logging.Level.WARNING);
  }

  SimCluster(Duration work) {
    cluster = new MockCluster();
    server = cluster.server;
    client = cluster.client();
    this.work = work;
    for (String f : new String[] {"os", "osinstances"}) {
      Path crd = Path.of("..", "deploy", "crds", f + ".upgrade.openeuler.org-v1.yml");
      client.apiextensions().v1().customResourceDefinitions().load(crd.toFile()).create();
    }
  }

  /** Creates {@code n} nodes {@code n000..}: 4 CPU / 8 GiB, two 100m/128Mi pods each. */
  SimCluster nodes(int n, String selectorLabel, boolean ready) {
    int base = client.nodes().list().getItems().size();
    for (int i = base; i < base + n; i++) {
      String name = String.format("n%03d", i);
      client.nodes().resource(FleetFixtures.node(name, "KubeOS v1", ready, selectorLabel)).create();
      for (int p = 0; p < 2; p++) {
        client
            .pods()
            .resource(FleetFixtures.appPod(name + "-app-" + p, "apps", name, false))
            .create();
      }
      FleetFixtures.createIdleInstance(client, NS, name);
    }
    return this;
  }

  /** Starts the actor and the monitor. */
  SimCluster start() {
    watch =
        client
            .resources(OSInstance.class)
            .inNamespace(NS)
            .inform(
                new ResourceEventHandler<>() {
                  @Override
                  public void onAdd(OSInstance i) {
                    seen(i);
                  }

                  @Override
                  public void onUpdate(OSInstance o, OSInstance i) {
                    seen(i);
                  }

                  @Override
                  public void onDelete(OSInstance i, boolean unknown) {}
                },
                0);
    return this;
  }

  private void seen(OSInstance i) {
    String node = i.getMetadata().getName();
    boolean busy = !OSInstanceSpec.IDLE.equals(i.getSpec().getNodestatus());
    assigned.put(node, busy);
    if (!busy) {
      working.remove(node); // only once the idle write is seen, so stale events do not count
    }
    maxAssigned.accumulateAndGet(
        (int) assigned.values().stream().filter(b -> b).count(), Math::max);
    if (busy && working.add(node)) {
      assignments.computeIfAbsent(node, k -> new AtomicInteger()).incrementAndGet();
      starts.add(System.nanoTime());
      actors.execute(logged(() -> begin(node)));
    }
  }

  /** OSInstances assigned an operation now, as the monitor's watch last saw them. */
  long inFlight() {
    return assigned.values().stream().filter(b -> b).count();
  }

  private static Runnable logged(Runnable r) {
    return () -> {
      try {
        r.run();
      } catch (RuntimeException e) {
        e.printStackTrace();
        throw e;
      }
    };
  }

  private void begin(String node) {
    String target = os().getSpec().getOsversion();
    status(node, "Upgrading", target, Instant.now().toString(), null, "staging");
    actors.schedule(logged(() -> end(node, target)), work.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void end(String node, String target) {
    var n = client.nodes().withName(node).get();
    var a = n.getMetadata().getAnnotations();
    if (a != null && "true".equals(a.get(Reconciler.SCALE_DOWN_DISABLED))) {
      annotatedWhileWorking.add(node);
    }
    var st = instance(node).getStatus();
    String start = st == null ? null : st.getStarttime();
    if (failing.contains(node)) {
      status(node, OSInstanceStatus.FAILED, target, start, Instant.now().toString(), "boom");
    } else {
      client
          .nodes()
          .withName(node)
          .status()
          .patch(MERGE, "{\"status\":{\"nodeInfo\":{\"osImage\":\"" + target + "\"}}}");
      status(node, OSInstanceStatus.DONE, target, start, Instant.now().toString(), "done");
    }
    idles.add(System.nanoTime());
  }

  private void status(
      String node, String phase, String target, String start, String end, String msg) {
    Map<String, Object> st = new java.util.HashMap<>();
    st.put("phase", phase);
    st.put("target", target);
    st.put("starttime", start);
    st.put("endtime", end);
    st.put("message", msg);
    client
        .resources(OSInstance.class)
        .inNamespace(NS)
        .withName(node)
        .status()
        .patch(MERGE, client.getKubernetesSerialization().asJson(Map.of("status", st)));
  }

  /** Sets {@code spec.pause} of os-v2 (a merge patch, as kubectl patch --type merge). */
  void pause(boolean pause) {
    client
        .resources(OS.class)
        .inNamespace(NS)
        .withName("os-v2")
        .patch(MERGE, "{\"spec\":{\"pause\":" + pause + "}}");
  }

  OSInstance instance(String node) {
    return client.resources(OSInstance.class).inNamespace(NS).withName(node).get();
  }

  OS os() {
    return client.resources(OS.class).inNamespace(NS).withName("os-v2").get();
  }

  static OS os(String name, String version, int maxUnavailable) {
    OS os = new OS();
    os.getMetadata().setName(name);
    os.getMetadata().setNamespace(NS);
    OSSpec s = os.getSpec();
    s.setOsversion(version);
    s.setOpstype(OpsType.UPGRADE);
    s.setImagetype("docker");
    s.setContainerimage("registry.example/kubeos:v2");
    s.setMaxunavailable(maxUnavailable);
    s.setTimeinterval(0);
    return os;
  }

  /** An operator on its own client, counting its API requests by method. */
  Operator operator(
      String identity, String leaseNs, Map<String, AtomicInteger> requests, OperatorMetrics m) {
    Interceptor counter =
        new Interceptor() {
          @Override
          public void before(BasicBuilder b, HttpRequest r, Interceptor.RequestTags tags) {
            String path = r.uri().getPath();
            String[] seg = path.split("/");
            String res = seg.length > 2 && path.contains("/namespaces/") ? kindAfterNs(seg) : "";
            if (res.isEmpty()) {
              res = seg.length > 4 && seg[1].equals("api") ? seg[3] : seg.length > 5 ? seg[4] : "";
            }
            String kind = path.contains("leases") ? "lease" : r.method() + " " + res;
            requests.computeIfAbsent(kind, k -> new AtomicInteger()).incrementAndGet();
          }
        };
    KubernetesClient c =
        server.createClient(
            b ->
                MockCluster.config(b)
                    .withHttpClientBuilderConsumer(
                        h -> h.addOrReplaceInterceptor("count", counter)));
    OperatorConfig cfg =
        OperatorConfig.of(null, leaseNs, identity)
            // production's lease and renew deadline (a loaded machine never loses the lease of a
            // live leader), a quick retry so a released lease is taken over at once
            .withTimings(
                Duration.ofSeconds(15),
                Duration.ofSeconds(10),
                Duration.ofMillis(200),
                Duration.ofMillis(20),
                Duration.ofSeconds(5));
    return new Operator(c, cfg, m, Clock.systemUTC());
  }

  private static String kindAfterNs(String[] seg) {
    for (int i = 0; i + 2 < seg.length; i++) {
      if (seg[i].equals("namespaces")) {
        return seg[i + 2];
      }
    }
    return "";
  }

  @Override
  public void close() {
    actors.shutdownNow();
    if (watch != null) {
      watch.stop();
    }
    client.close();
    cluster.close();
  }
}
