package dev.kubeos.cluster.proxy;

import static org.awaitility.Awaitility.await;

import dev.kubeos.cluster.FleetFixtures;
import dev.kubeos.cluster.operator.NodeDrains;
import dev.kubeos.cluster.operator.Operator;
import dev.kubeos.cluster.operator.OperatorConfig;
import dev.kubeos.cluster.operator.OperatorMetrics;
import dev.kubeos.crd.OS;
import dev.kubeos.crd.OSInstance;
import dev.kubeos.crd.OSInstanceSpec;
import dev.kubeos.crd.OSSpec;
import dev.kubeos.crd.OSStatus;
import dev.kubeos.crd.OpsType;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The fleet harness: fabric8's CRUD mock server (with the Eviction subresource) holding {@code
 * selected} nodes without a selector label and {@code outside} nodes labelled {@code other}, each
 * Ready, 4 CPU / 8 GiB, running {@link #V1}, with two ReplicaSet pods and no OSInstance (each
 * node's proxy registers it, as in production); one real {@link NodeProxy} per node (a thread each)
 * with its own {@link MemoryAgent} (the node's "disk", kept across proxy restarts); the real {@link
 * Operator}; a {@link FleetMonitor}. Proxies and the operator can be stopped and started again, as
 * new processes with new clients.
 */
final class ProxyFleet implements AutoCloseable {
  static final String NS = Fixtures.NS;
  static final String V1 = "KubeOS v1";
  static final String V2 = "KubeOS v2";
  static final String OS_NAME = "os-v2";
  static final String OUTSIDE_LABEL = "other";

  // held in a field: java.util.logging keeps loggers weakly
  private static final java.util.logging.Logger QUIET =
      java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

  static {
    QUIET.setLevel(java.util.logging.Level.WARNING);
    // one line per record, with the time: the fleet's log is read as a timeline
    for (var h : java.util.logging.Logger.getLogger("").getHandlers()) {
      h.setFormatter(
          new java.util.logging.Formatter() {
            @Override
            public String format(java.util.logging.LogRecord r) {
              return String.format(
                  "%1$tT.%1$tL %2$s %3$s: %4$s%n",
                  r.getMillis(),
                  r.getLevel(),
                  r.getLoggerName().substring(r.getLoggerName().lastIndexOf('.') + 1),
                  formatMessage(r));
            }
          });
    }
  }

  final MockCluster cluster = new MockCluster();
  final KubernetesClient admin = cluster.client();
  final List<String> selected = new ArrayList<>();
  final List<String> outside = new ArrayList<>();
  final Map<String, MemoryAgent> agents = new LinkedHashMap<>();
  private final FleetMonitor monitor;

  /**
   * The test's monitor once it has seen the current version of every node and OSInstance: its
   * watches may still be delivering events when the fleet has converged.
   */
  FleetMonitor monitor() {
    await()
        .atMost(Duration.ofMinutes(2))
        .until(
            () ->
                monitor.caughtUp(
                    admin.nodes().list().getItems(),
                    admin.resources(OSInstance.class).inNamespace(NS).list().getItems()));
    return monitor;
  }

  /** The proxies' API requests, by "METHOD resource" ("WATCH" for watches). */
  final Map<String, java.util.concurrent.atomic.AtomicInteger> proxyRequests =
      new java.util.concurrent.ConcurrentSkipListMap<>();

  /** Exceptions that ended a proxy thread other than a simulated kill. */
  final List<Throwable> crashes = new CopyOnWriteArrayList<>();

  private final ProxyConfig config;

  /** The operator's drains: the proxies' drain timeout, evictions retried after a poll or more. */
  private final NodeDrains.Settings drain;

  private final List<KubernetesClient> clients = new ArrayList<>();
  private final Map<String, NodeProxy> proxies = new ConcurrentHashMap<>();
  private final SharedIndexInformer<Node> nodeWatch;
  private final SharedIndexInformer<OSInstance> instanceWatch;
  private KubernetesClient proxyClient;
  private Operator operator;
  private KubernetesClient operatorClient;
  private OperatorMetrics metrics;
  private int operators;
  private final long t0 = System.nanoTime();

  /**
   * @param poll the proxies' poll interval, also the operator's first eviction backoff; the proxies
   *     watch their Node and OSInstance and look again at the latest after a 5 s resync
   * @param rebootDelayMs how long a node takes to "reboot" after the agent's {@code upgrade}
   */
  ProxyFleet(int selectedNodes, int outsideNodes, Duration poll, long rebootDelayMs) {
    for (String f : new String[] {"os", "osinstances"}) {
      Path crd = Path.of("..", "deploy", "crds", f + ".upgrade.openeuler.org-v1.yml");
      admin.apiextensions().v1().customResourceDefinitions().load(crd.toFile()).create();
    }
    for (int i = 0; i < selectedNodes + outsideNodes; i++) {
      String name = String.format("n%03d", i);
      boolean in = i < selectedNodes;
      (in ? selected : outside).add(name);
      admin
          .nodes()
          .resource(FleetFixtures.node(name, V1, true, in ? null : OUTSIDE_LABEL))
          .create();
      for (int p = 0; p < 2; p++) {
        admin.pods().resource(FleetFixtures.appPod(name + "-app-" + p, NS, name, true)).create();
      }
      agents.put(name, new MemoryAgent(admin, name, rebootDelayMs));
    }
    monitor = new FleetMonitor(selected);
    nodeWatch = admin.nodes().inform(monitor.nodes(), 0);
    instanceWatch =
        admin.resources(OSInstance.class).inNamespace(NS).inform(monitor.instances(), 0);
    config =
        new ProxyConfig(
            poll, Duration.ofSeconds(60), Duration.ofSeconds(60), Duration.ofSeconds(5));
    drain = new NodeDrains.Settings(config.defaultDrainTimeout(), 5, poll, poll.multipliedBy(4));
    proxyClient = newProxyClient();
  }

  /** The OS resource {@link #OS_NAME} to {@link #V2}, timeinterval 0, changed by {@code spec}. */
  OS createOs(int maxUnavailable, Consumer<OSSpec> spec) {
    OS os = new OS();
    os.getMetadata().setName(OS_NAME);
    os.getMetadata().setNamespace(NS);
    os.getSpec().setOsversion(V2);
    os.getSpec().setOpstype(OpsType.UPGRADE);
    os.getSpec().setImagetype("disk");
    os.getSpec().setImageurl("https://images.invalid/kubeos.tar");
    os.getSpec().setChecksum("ab".repeat(32));
    os.getSpec().setMaxunavailable(maxUnavailable);
    os.getSpec().setTimeinterval(0);
    spec.accept(os.getSpec());
    return admin.resource(os).create();
  }

  /** JSON merge patch of the OS resource's spec, as {@code kubectl patch --type merge}. */
  void patchOsSpec(String specJson) {
    admin
        .resources(OS.class)
        .inNamespace(NS)
        .withName(OS_NAME)
        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":" + specJson + "}");
  }

  /** A PodDisruptionBudget over the node's two app pods that never allows an eviction. */
  void blockDrain(String node) {
    Fixtures.pdb(admin, "app-" + node, 2);
  }

  // ---- proxies ----

  /**
   * Starts every node's proxy and waits until each has registered its node: its OSInstance exists,
   * idle. The bound only ends a broken run.
   */
  void startProxies() {
    for (String name : agents.keySet()) {
      startProxy(name);
    }
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofMinutes(3))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> instances().keySet().containsAll(agents.keySet()));
  }

  /** Starts the node's proxy: the first ones share one client, restarted ones another. */
  void startProxy(String name) {
    NodeProxy old = proxies.get(name);
    if (old != null && old.isRunning()) {
      throw new IllegalStateException("the proxy of " + name + " still runs");
    }
    NodeProxy proxy =
        new NodeProxy(proxyClient, name, NS, agents.get(name), config, Clock.systemUTC());
    proxies.put(name, proxy);
    proxy.start(
        (t, e) -> {
          if (!(e instanceof MemoryAgent.ProxyKilled)) { // died right after requesting the reboot
            crashes.add(e);
          }
        });
  }

  /**
   * Stops the nodes' proxies, as their pods would be deleted: each may finish its step in flight
   * within 5 s, then the step is cancelled ({@link NodeProxy#stop}); a stop that takes longer than
   * that plus 60 s is a failure of the proxy, not something to wait out.
   */
  void stopProxies(Collection<String> names) throws InterruptedException {
    for (String n : names) {
      if (!proxies.get(n).stop(Duration.ofSeconds(5), Duration.ofSeconds(60))) {
        throw new IllegalStateException("the proxy of " + n + " did not stop");
      }
    }
  }

  boolean proxyRunning(String name) {
    return proxies.get(name).isRunning();
  }

  /** Later proxy starts use a new client, as new proxy processes would. */
  void newProxyGeneration() {
    proxyClient = newProxyClient();
  }

  int proxyRequestCount() {
    return proxyRequests.values().stream().mapToInt(a -> a.get()).sum();
  }

  /** The proxies' requests per node that reached the target, and their breakdown. */
  String proxyRequestsPerNode(int upgraded) {
    int total = proxyRequests.values().stream().mapToInt(a -> a.get()).sum();
    return String.format(
        java.util.Locale.ROOT,
        "%.1f (%d requests: %s)",
        (double) total / upgraded,
        total,
        proxyRequests);
  }

  private KubernetesClient newProxyClient() {
    io.fabric8.kubernetes.client.http.Interceptor counter =
        new io.fabric8.kubernetes.client.http.Interceptor() {
          @Override
          public void before(
              io.fabric8.kubernetes.client.http.BasicBuilder b,
              io.fabric8.kubernetes.client.http.HttpRequest r,
              RequestTags tags) {
            proxyRequests
                .computeIfAbsent(kind(r), k -> new java.util.concurrent.atomic.AtomicInteger())
                .incrementAndGet();
          }
        };
    KubernetesClient c =
        cluster.server.createClient(
            b ->
                MockCluster.proxyConfig(b)
                    .withHttpClientBuilderConsumer(
                        h -> h.addOrReplaceInterceptor("count", counter)));
    clients.add(c);
    return c;
  }

  /** "GET nodes", "PUT osinstances/status", "POST pods/eviction", "WATCH nodes", ... */
  static String kind(io.fabric8.kubernetes.client.http.HttpRequest r) {
    String path = r.uri().getPath();
    String query = r.uri().getQuery() == null ? "" : r.uri().getQuery();
    String[] seg = path.split("/");
    String res = "";
    for (String k : new String[] {"nodes", "pods", "osinstances", "os", "events"}) {
      for (int i = 0; i < seg.length; i++) {
        if (seg[i].equals(k)) {
          res = k + (i + 2 < seg.length ? "/" + seg[i + 2] : "");
        }
      }
      if (!res.isEmpty()) {
        break;
      }
    }
    String method = query.contains("watch=true") ? "WATCH" : r.method();
    return method + " " + res;
  }

  // ---- operator ----

  void startOperator() {
    if (operator != null) {
      throw new IllegalStateException("an operator runs already");
    }
    OperatorConfig cfg =
        OperatorConfig.of(null, null, "fleet-" + operators++)
            .withTimings(
                Duration.ofSeconds(2),
                Duration.ofMillis(1500),
                Duration.ofMillis(200),
                Duration.ofMillis(20),
                Duration.ofSeconds(2))
            .withDrain(drain);
    metrics = new OperatorMetrics();
    operatorClient = cluster.client();
    operator = new Operator(operatorClient, cfg, metrics, Clock.systemUTC());
    operator.start();
  }

  /**
   * Stops the operator at once (its informers and loop end; nothing is handed over) and drops its
   * connections, as a killed process would. Its watches close while events are in flight to them:
   * on the plain mock server that stalled every request for 30 s, here it does not ({@link
   * WatchCloseOffEventLoop}).
   */
  void killOperator() {
    operator.close();
    metrics.close();
    operatorClient.close();
    operator = null;
  }

  int operatorPasses() {
    return operator.passes();
  }

  // ---- reading the cluster ----

  OS os() {
    return admin.resources(OS.class).inNamespace(NS).withName(OS_NAME).get();
  }

  /** The OS condition of {@code type}, or null before the first status. */
  Condition condition(String type) {
    OSStatus s = os().getStatus();
    if (s == null || s.getConditions() == null) {
      return null;
    }
    return s.getConditions().stream()
        .filter(c -> type.equals(c.getType()))
        .findFirst()
        .orElse(null);
  }

  boolean isTrue(String type) {
    Condition c = condition(type);
    return c != null && "True".equals(c.getStatus());
  }

  Map<String, OSInstance> instances() {
    return admin.resources(OSInstance.class).inNamespace(NS).list().getItems().stream()
        .collect(Collectors.toMap(i -> i.getMetadata().getName(), Function.identity()));
  }

  OSInstance instance(String node) {
    return admin.resources(OSInstance.class).inNamespace(NS).withName(node).get();
  }

  Node node(String name) {
    return admin.nodes().withName(name).get();
  }

  /** Nodes the operator ever assigned the rollout, read now from the server. */
  Set<String> started() {
    Set<String> s = new TreeSet<>();
    instances()
        .forEach(
            (name, i) -> {
              if (!OSInstanceSpec.IDLE.equals(i.getSpec().getNodestatus())
                  || (i.getStatus() != null && V2.equals(i.getStatus().getTarget()))) {
                s.add(name);
              }
            });
    return s;
  }

  /** Nodes whose OSInstance is assigned an operation now. */
  Set<String> inFlight() {
    Set<String> s = new TreeSet<>();
    instances()
        .forEach(
            (name, i) -> {
              if (!OSInstanceSpec.IDLE.equals(i.getSpec().getNodestatus())) {
                s.add(name);
              }
            });
    return s;
  }

  /** The resourceVersion of every node and OSInstance, to show later that some were not written. */
  Map<String, String> versions() {
    Map<String, String> v = new TreeMap<>();
    admin.nodes().list().getItems().forEach(n -> v.put("node/" + name(n), rv(n)));
    instances().values().forEach(i -> v.put("osinstance/" + name(i), rv(i)));
    return v;
  }

  /** Every selected node at V2, Done, idle and schedulable, and the OS counting them at target. */
  boolean converged() {
    return converged(Set.of());
  }

  /** As {@link #converged()} for the selected nodes other than {@code failed}. */
  boolean converged(Set<String> failed) {
    OS os = os();
    if (os.getStatus() == null || os.getStatus().getAtTarget() != selected.size() - failed.size()) {
      return false;
    }
    Map<String, OSInstance> inst = instances();
    Map<String, Node> nodes =
        admin.nodes().list().getItems().stream()
            .collect(Collectors.toMap(ProxyFleet::name, Function.identity()));
    for (String name : selected) {
      if (failed.contains(name)) {
        continue;
      }
      OSInstance i = inst.get(name);
      Node n = nodes.get(name);
      if (!OSInstanceSpec.IDLE.equals(i.getSpec().getNodestatus())
          || i.getStatus() == null
          || !"Done".equals(i.getStatus().getPhase())
          || Boolean.TRUE.equals(n.getSpec().getUnschedulable())
          || !V2.equals(n.getStatus().getNodeInfo().getOsImage())) {
        return false;
      }
    }
    return true;
  }

  /**
   * Why {@link #converged(Set)} is false: the OS status counts and every selected node (other than
   * {@code failed}) that is not done, as the server has them; for a failure message.
   */
  String unconverged(Set<String> failed) {
    StringBuilder b = new StringBuilder();
    OS os = os();
    b.append("OS status: ")
        .append(os.getStatus() == null ? "none" : os.getStatus().getAtTarget() + " at target of ")
        .append(selected.size() - failed.size())
        .append(" expected; ")
        .append(os.getStatus() == null ? "" : os.getStatus().getConditions())
        .append('\n');
    Map<String, OSInstance> inst = instances();
    Map<String, Node> nodes =
        admin.nodes().list().getItems().stream()
            .collect(Collectors.toMap(ProxyFleet::name, Function.identity()));
    for (String name : selected) {
      OSInstance i = inst.get(name);
      Node n = nodes.get(name);
      boolean done =
          OSInstanceSpec.IDLE.equals(i.getSpec().getNodestatus())
              && i.getStatus() != null
              && "Done".equals(i.getStatus().getPhase())
              && !Boolean.TRUE.equals(n.getSpec().getUnschedulable())
              && V2.equals(n.getStatus().getNodeInfo().getOsImage());
      if (!failed.contains(name) && !done) {
        b.append(name)
            .append(": nodestatus=")
            .append(i.getSpec().getNodestatus())
            .append(" status=")
            .append(i.getStatus())
            .append(" unschedulable=")
            .append(n.getSpec().getUnschedulable())
            .append(" osImage=")
            .append(n.getStatus().getNodeInfo().getOsImage())
            .append(" proxy running=")
            .append(proxyRunning(name))
            .append('\n');
      }
    }
    return b.toString();
  }

  /** Prints how long the scenario has run at {@code stage}. */
  void log(String stage) {
    System.out.printf(
        "%s ProxyFleet %d+%d nodes: %5.1f s %s%n",
        java.time.LocalTime.now(),
        selected.size(),
        outside.size(),
        (System.nanoTime() - t0) / 1e9,
        stage);
  }

  /** Reasons of the Events about the node ("Warning: " prefixed for warnings). */
  List<String> nodeEvents(String node) {
    return Fixtures.nodeEvents(admin, node);
  }

  /** Events of all nodes, grouped: node to reasons. */
  Map<String, List<String>> allNodeEvents() {
    return admin.v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> "Node".equals(e.getInvolvedObject().getKind()))
        .collect(
            Collectors.groupingBy(
                e -> e.getInvolvedObject().getName(),
                Collectors.mapping(
                    e -> ("Warning".equals(e.getType()) ? "Warning: " : "") + e.getReason(),
                    Collectors.toList())));
  }

  /** Reasons of the operator's Events about the OS resource. */
  List<String> osEvents() {
    return admin.v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> "OS".equals(e.getInvolvedObject().getKind()))
        .map(e -> e.getReason())
        .toList();
  }

  private static String name(HasMetadata o) {
    return o.getMetadata().getName();
  }

  private static String rv(HasMetadata o) {
    return o.getMetadata().getResourceVersion();
  }

  @Override
  public void close() throws InterruptedException {
    stopProxies(List.copyOf(proxies.keySet()));
    if (operator != null) {
      killOperator();
    }
    nodeWatch.close();
    instanceWatch.close();
    clients.forEach(KubernetesClient::close);
    admin.close();
    cluster.close();
  }
}
