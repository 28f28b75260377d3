package dev.kubeos.cli.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kubeos.api.Json;
import dev.kubeos.cli.demo.DemoImages;
import dev.kubeos.cli.demo.Host;
import dev.kubeos.cli.demo.QemuDemo;
import dev.kubeos.cli.demo.QemuGuest;
import dev.kubeos.cluster.operator.Operator;
import dev.kubeos.cluster.operator.OperatorConfig;
import dev.kubeos.cluster.operator.OperatorMetrics;
import dev.kubeos.cluster.proxy.MockCluster;
import dev.kubeos.crd.OS;
import dev.kubeos.crd.OSInstance;
import dev.kubeos.crd.OSStatus;
import dev.kubeos.crd.OpsType;
import dev.kubeos.testing.RegistryServer;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12, the whole system: the real operator, the real proxies and agents, and the OS they
 * manage, in two QEMU guests (OVMF + GRUB, TCG), driven only by applying an upstream-shaped OS
 * resource. Scenario 1 (rolling upgrade, {@code maxunavailable: 1}).
 *
 * <p>Host side, all on 127.0.0.1: <b>fabric8's mock API server in CRUD mode with our CRDs stands in
 * for kube-apiserver</b> (none is installable here; {@link MockCluster}: Eviction API with
 * PodDisruptionBudgets); the real {@link Operator} in this JVM against it; Debian's docker-registry
 * holding v1 and v2 as pushed by {@code kubeos image build --push} (the os.tar image and the KubeOS
 * artifact, raw image + chunk index). Guests: two node-profile KubeOS VMs from v1's disk, each with
 * the agent unit and the node's {@code kubeos proxy} as a unit ({@link ClusterImages}); their only
 * network is QEMU user networking with {@code restrict=on} and guestfwd rules to the API server and
 * (through a byte-counting relay per node) the registry ({@link GuestNetwork}).
 *
 * <p>Test code, not the product: {@link KubeletRole} keeps each Node's osImage and bootID current
 * from the guests' consoles; {@link ReplicaSetRole} owns the app pods and the budget and re-places
 * evicted pods on nodes that are not cordoned.
 *
 * <p>Every bound after the first boot scales with the guest's measured speed (a JVM start timed in
 * the guest); the first boot is bounded by {@code kubeos.e2e.boot-timeout} (s, default 1200), a
 * bound only. Needs root, qemu-system-x86, ovmf, socat and docker-registry; run alone with {@code
 * ./mvnw -B -ntp verify -Pe2e -pl kubeos-cli -am -Dit.test=ClusterE2E -Dtest=none
 * -Dsurefire.failIfNoSpecifiedTests=false -Dspotless.check.skip=true}. Without them it is skipped,
 * unless {@code KUBEOS_E2E=required}.
 */
class ClusterE2E {
  static final Path REPO = Path.of(System.getProperty("user.dir")).getParent();
  static final Path CACHE =
      Path.of(System.getProperty("kubeos.e2e.cache", DemoImages.DEFAULT_CACHE_DIR.toString()));
  static final Duration FIRST_BOOT =
      Duration.ofSeconds(Long.getLong("kubeos.e2e.boot-timeout", 1200));

  /** Held: JUL keeps loggers weakly, a level set on a collected one would be lost. */
  static final java.util.logging.Logger MOCK_LOG =
      java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

  static final String V1 = "1.0.0";
  static final String V2 = "2.0.0";
  static final String NS = "default";
  static final List<String> NODES = List.of("node-a", "node-b");
  static final int API_PORT = 6443;
  static final int REGISTRY_PORT = 5000;

  /**
   * The rollout's bound in guest JVM starts: per node a delta stage (hashing the booted slot), a
   * reboot with two JVM starts (health check, reporter) and the proxy's restart come to about 10;
   * 25 per node leaves room for a machine that gets slower during the run.
   */
  static final int ROLLOUT_JVM_STARTS_PER_NODE = 25;

  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path dir;

  private final long t0 = System.nanoTime();
  private final Map<String, GuestRun> guests = new LinkedHashMap<>();

  @BeforeEach
  void hostCanRunIt() {
    String why = QemuDemo.preflight();
    List<String> missing = new ArrayList<>(GuestNetwork.missingPackages());
    if (!Files.isExecutable(RegistryServer.BINARY)) {
      missing.add("docker-registry");
    }
    if (!missing.isEmpty()) {
      why = (why == null ? "" : why + " ") + "missing: " + String.join(" ", missing);
    }
    if (why != null) {
      if ("required".equals(System.getenv("KUBEOS_E2E"))) {
        fail("KUBEOS_E2E=required but this host cannot run the cluster e2e: " + why);
      }
      assumeTrue(false, "skipped (set KUBEOS_E2E=required to make this a failure): " + why);
    }
  }

  @Test
  void rollingUpgradeDrainsStagesByDeltaRebootsAndCommitsOneNodeAtATime() throws Exception {
    say(
        "cluster e2e (issue 12, scenario 1): fabric8's mock API server (CRUD mode, our CRDs) stands"
            + " in for kube-apiserver");
    // the mock logs every request at INFO: hundreds a minute from the proxies
    MOCK_LOG.setLevel(java.util.logging.Level.WARNING);
    ScheduledExecutorService beat = Executors.newSingleThreadScheduledExecutor();
    try (MockCluster api = new MockCluster();
        RegistryServer registry = RegistryServer.start(dir.resolve("registry"))) {
      KubernetesClient admin = api.client();
      for (String f : new String[] {"os", "osinstances"}) {
        Path crd = REPO.resolve("deploy/crds/" + f + ".upgrade.openeuler.org-v1.yml");
        admin.apiextensions().v1().customResourceDefinitions().load(crd.toFile()).create();
      }
      int apiPort = api.server.getPort();
      say("  API server (mock) on 127.0.0.1:" + apiPort + ", registry on " + registry.host());

      // ---- images: v1 and v2, built and pushed by kubeos image build --push ----
      Path jar = REPO.resolve("kubeos-cli/target/kubeos.jar");
      Path runtime = REPO.resolve("kubeos-cli/target/cluster-e2e-runtime");
      say(
          "==> runtime for the images (jlink + kubeos.jar): "
              + (ClusterImages.runtime(jar, runtime) ? "built" : "up to date"));
      Map<String, ClusterImages.Built> built = new LinkedHashMap<>();
      for (String v : List.of(V1, V2)) {
        long s = System.nanoTime();
        say("==> kubeos image build --push " + registry.host() + "/kubeos/os (" + v + ")");
        Path cfg = ClusterImages.config(dir.resolve("v" + v), v, runtime);
        built.put(
            v,
            ClusterImages.buildAndPush(
                jar,
                cfg,
                dir.resolve("v" + v + "/out"),
                CACHE,
                registry.host() + "/kubeos/os",
                v,
                line -> {
                  if (line.startsWith("==>") || line.contains("pushed") || line.contains("built")) {
                    say("    " + line.strip());
                  }
                }));
        say("    " + v + " built and pushed in " + secs(since(s)));
      }
      ClusterImages.Built v2 = built.get(V2);
      long rawBytes = Files.size(v2.rootfsImage());

      // ---- the cluster's objects: Nodes (kubelet role), pods and budget (ReplicaSet role) ----
      KubeletRole kubelet = new KubeletRole(admin);
      for (String n : NODES) {
        kubelet.register(n);
      }
      ReplicaSetRole web = new ReplicaSetRole(admin, "web", NODES, 2, 3);

      // ---- the operator, in this JVM ----
      OperatorMetrics metrics = new OperatorMetrics();
      KubernetesClient operatorClient = api.client();
      Operator operator =
          new Operator(
              operatorClient,
              OperatorConfig.of(null, null, "cluster-e2e"),
              metrics,
              Clock.systemUTC());
      operator.start();
      say("==> operator started (in this JVM, no leader election)");

      // ---- the guests ----
      for (String n : NODES) {
        GuestRun g = new GuestRun(n, kubelet);
        Path disk = dir.resolve(n + "/disk.img");
        Files.createDirectories(disk.getParent());
        Host.run(
            List.of("cp", "--sparse=always", built.get(V1).disk().toString(), disk.toString()));
        g.relay = new CountingRelay(n, registry.port());
        g.jobDisk = jobDisk(dir.resolve(n), n);
        g.vm =
            new QemuGuest(disk, dir.resolve(n + "/qemu"), dir.resolve(n + "/logs"))
                .memoryMib(1536)
                .singleThreadTcg(true)
                .network(
                    GuestNetwork.qemuArgs(
                        List.of(
                            new GuestNetwork.Forward(API_PORT, apiPort),
                            new GuestNetwork.Forward(REGISTRY_PORT, g.relay.port()))));
        guests.put(n, g);
      }
      beat.scheduleAtFixedRate(() -> heartbeat(admin), 20, 20, TimeUnit.SECONDS);
      for (GuestRun g : guests.values()) {
        g.start();
        say("==> " + g.name + ": booting v1 (console: " + dir.resolve(g.name + "/logs") + ")");
      }

      // ---- both nodes up on v1, their proxies registered ----
      await("both guests booted v1 and reported; their proxies registered the OSInstances")
          .atMost(FIRST_BOOT)
          .pollInterval(Duration.ofSeconds(2))
          .until(
              () -> {
                guestsAlive();
                return guests.values().stream().allMatch(g -> g.jvmMs.get(0) != null)
                    && NODES.stream()
                        .allMatch(
                            n ->
                                ("KubeOS " + V1).equals(osImage(admin, n))
                                    && admin
                                            .resources(OSInstance.class)
                                            .inNamespace(NS)
                                            .withName(n)
                                            .get()
                                        != null);
              });
      long unitMs = guests.values().stream().mapToLong(g -> g.jvmMs.get(0)).max().orElseThrow();
      Duration unit = Duration.ofMillis(Math.max(unitMs, 1000));
      Duration rolloutBound = unit.multipliedBy(ROLLOUT_JVM_STARTS_PER_NODE * NODES.size());
      say(
          "    guest speed: a JVM start (kubeos agent status) takes "
              + secs(unit)
              + " in the guests; rollout bound "
              + secs(rolloutBound));
      for (GuestRun g : guests.values()) {
        JsonNode s = Json.mapper().readTree(g.agentStatus.get(0));
        assertThat(s.path("bootedSlot").asText()).as(g.name + " boots v1 from A").isEqualTo("A");
      }

      // ---- scenario 1: apply the OS resource, watch it roll ----
      Timeline timeline = new Timeline(admin);
      OS os = new OS();
      os.getMetadata().setName("kubeos-upgrade");
      os.getMetadata().setNamespace(NS);
      os.getSpec().setOpstype(OpsType.UPGRADE);
      os.getSpec().setOsversion("KubeOS " + V2);
      os.getSpec().setMaxunavailable(1);
      os.getSpec().setImagetype("containerd");
      String image =
          GuestNetwork.HOST_ADDRESS
              + ":"
              + REGISTRY_PORT
              + v2.artifact().substring(v2.artifact().indexOf('/'));
      os.getSpec().setContainerimage(image);
      os.getSpec().setChecksum(v2.artifactDigestHex());
      os.getSpec().setFlagSafe(true); // the registry speaks plain http (on 127.0.0.1 only)
      Instant applied = Instant.now();
      admin.resources(OS.class).resource(os).create();
      say("==> applied OS kubeos-upgrade: KubeOS " + V2 + ", maxunavailable 1, " + image);

      await("the rollout converges: both nodes on KubeOS " + V2 + ", the OS Complete")
          .atMost(rolloutBound)
          .pollInterval(Duration.ofSeconds(2))
          .until(
              () -> {
                guestsAlive();
                timeline.failFast();
                return converged(admin);
              });
      Instant done = Instant.now();
      say("==> rollout done in " + secs(Duration.between(applied, done)));

      // ---- what the API server says ----
      OS finalOs = admin.resources(OS.class).inNamespace(NS).withName("kubeos-upgrade").get();
      assertThat(finalOs.getStatus().getAtTarget()).isEqualTo(2);
      assertThat(finalOs.getStatus().getFailed()).isZero();
      assertThat(timeline.maxCordoned).as("one node at a time (maxunavailable 1)").isEqualTo(1);
      Map<String, NodeSteps> steps = new LinkedHashMap<>();
      List<String> evictions = api.evictionAnswers();
      for (String n : NODES) {
        GuestRun g = guests.get(n);
        Map<String, Instant> ph = timeline.phases.get(n);
        assertThat(ph)
            .as(n + ": the proxy's phases")
            .containsKeys("Staging", "Draining", "Rebooting", "Done");
        assertThat(nodeEvents(admin, n))
            .as(n + ": Events")
            .containsSubsequence("Staged", "Draining", "Rebooting", "Rebooted", "Upgraded");
        assertThat(evictions)
            .as(n + ": its own pods evicted through the Eviction API")
            .contains(NS + "/web-" + n + "-0 201", NS + "/web-" + n + "-1 201");
        assertThat(timeline.podsLeftAtReboot.get(n)).as(n + ": drained before the reboot").isZero();
        assertThat(timeline.bootIdAtReboot.get(n))
            .as(n + ": the proxy recorded the bootID it rebooted from")
            .isEqualTo(g.bootIds.get(0));
        // the guest: two boots (one reboot for the one step), v2 committed on slot B
        assertThat(g.boots).as(n + ": exactly one reboot").hasSize(1);
        assertThat(g.bootIds).hasSize(2);
        assertThat(g.bootIds.get(1)).as(n + ": a new bootID").isNotEqualTo(g.bootIds.get(0));
        Node node = admin.nodes().withName(n).get();
        assertThat(node.getStatus().getNodeInfo().getBootID()).isEqualTo(g.bootIds.get(1));
        assertThat(node.getStatus().getNodeInfo().getOsImage()).isEqualTo("KubeOS " + V2);
        assertThat(node.getSpec().getUnschedulable()).as(n + ": uncordoned").isNotEqualTo(true);
        JsonNode s = Json.mapper().readTree(g.agentStatus.get(1));
        assertThat(s.path("bootedSlot").asText()).as(n + ": booted B").isEqualTo("B");
        assertThat(s.path("defaultSlot").asText()).as(n + ": committed B").isEqualTo("B");
        assertThat(s.path("trialBoot").asBoolean()).isFalse();
        assertThat(s.path("slots").path("B").path("version").asText()).isEqualTo("KubeOS " + V2);
        // staged as a delta: a fraction of the raw image came over this node's relay
        assertThat(g.relay.bytesToClient())
            .as(n + ": bytes fetched from the registry (delta) against the raw image " + rawBytes)
            .isPositive()
            .isLessThan(rawBytes / 4);
        steps.put(n, NodeSteps.of(ph, timeline, g));
      }
      assertThat(web.lowestSeen())
          .as("the PodDisruptionBudget (minAvailable 3) held")
          .isGreaterThanOrEqualTo(3);
      assertThat(
              registry.requests().stream()
                  .filter(r -> "GET".equals(r.method()) && r.path().contains(v2.rootfsSha256()))
                  .map(RegistryServer.Request::status))
          .as("the raw layer was read by Range only (206), never whole")
          .isNotEmpty()
          .allMatch(c -> c == 206);
      Instant firstStage =
          NODES.stream()
              .map(n -> timeline.phases.get(n).get("Staging"))
              .min(Instant::compareTo)
              .orElseThrow();

      // ---- figures ----
      say("");
      say("Per-node steps (mock API server standing in for kube-apiserver; guests under TCG)");
      say(
          String.format(
              Locale.ROOT,
              "  %-7s %9s %9s %9s %9s %9s %9s %14s",
              "node",
              "stage",
              "drain",
              "reboot",
              "health+c",
              "to done",
              "cordon→un",
              "fetched"));
      for (String n : NODES) {
        NodeSteps st = steps.get(n);
        say(
            String.format(
                Locale.ROOT,
                "  %-7s %9s %9s %9s %9s %9s %9s %14s",
                n,
                secs(st.stage),
                secs(st.drain),
                secs(st.reboot),
                secs(st.healthCommit),
                secs(st.toDone),
                secs(st.cordoned),
                mib(guests.get(n).relay.bytesToClient())));
      }
      say(
          "  raw image "
              + mib(rawBytes)
              + "; operator reaction (OS applied to first Staging) "
              + secs(Duration.between(applied, firstStage))
              + "; rollout "
              + secs(Duration.between(applied, done))
              + "; guest JVM start "
              + secs(unit)
              + "; whole test "
              + secs(since(t0))
              + "; evictions refused by the budget: "
              + evictions.stream().filter(e -> e.endsWith(" 429")).count()
              + ", pods re-placed: "
              + web.replacements());
      timeline.close();
      web.close();
      operator.close();
      metrics.close();
      operatorClient.close();
    } finally {
      beat.shutdownNow();
      for (GuestRun g : guests.values()) {
        g.stop();
      }
    }
  }

  // ---- the guests ----

  /** One guest: boots in a loop (each reboot ends a QEMU run) until stopped. */
  final class GuestRun {
    final String name;
    final KubeletRole kubelet;
    QemuGuest vm;
    Path jobDisk;
    CountingRelay relay;

    /** Finished boots (QEMU exited); the running one is not in it. */
    final List<QemuGuest.Boot> boots = new CopyOnWriteArrayList<>();

    /** The host's instant at each QEMU start. */
    final List<Instant> starts = new CopyOnWriteArrayList<>();

    final List<String> bootIds = new CopyOnWriteArrayList<>();
    final Map<Integer, Instant> nodeLineAt = new ConcurrentHashMap<>();
    final Map<Integer, Instant> healthStartAt = new ConcurrentHashMap<>();
    final Map<Integer, Long> jvmMs = new ConcurrentHashMap<>();
    final Map<Integer, String> agentStatus = new ConcurrentHashMap<>();
    volatile String lastLine = "";
    volatile Throwable failure;
    private volatile boolean stopping;
    private Thread thread;

    GuestRun(String name, KubeletRole kubelet) {
      this.name = name;
      this.kubelet = kubelet;
    }

    void start() {
      thread = new Thread(this::run, "guest-" + name);
      thread.setDaemon(true);
      thread.start();
    }

    private void run() {
      try {
        while (!stopping) {
          int index = starts.size();
          starts.add(Instant.now());
          QemuGuest.Boot b =
              vm.boot(jobDisk, Duration.ofHours(6), (at, line) -> line(index, at, line));
          boots.add(b);
          say(
              "    "
                  + name
                  + ": QEMU exited after "
                  + secs(b.wall())
                  + " (boot "
                  + b.number()
                  + ")");
          if (b.wall().compareTo(Duration.ofSeconds(5)) < 0) {
            throw new IOException(name + ": QEMU exited at once; see " + b.log());
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (Throwable t) {
        if (!stopping) {
          failure = t;
        }
      }
    }

    private static final Pattern HEALTH_START = Pattern.compile("Starting .*kubeos-health\\.ser");

    /** Shown in the test's output: the reporter, the agent's and proxy's logs, kubeos units. */
    private static final Pattern SHOWN =
        Pattern.compile(
            "KUBEOS-E2E|\\] (java|sh)\\[\\d+\\]: |(Starting|Started|Finished|Failed).*kubeos|reboot");

    private void line(int boot, Duration at, String line) {
      try {
        handle(boot, at, line);
      } catch (RuntimeException e) { // never let the console reader (and so QEMU) die of it
        failure = e;
      }
    }

    private void handle(int boot, Duration at, String line) {
      Instant when = starts.get(boot).plus(at);
      if (!line.isBlank()) {
        lastLine = line.strip();
      }
      if (HEALTH_START.matcher(line).find()) {
        healthStartAt.putIfAbsent(boot, when);
      }
      KubeletRole.Report r = KubeletRole.parse(line);
      if (r != null) {
        bootIds.add(r.bootId());
        nodeLineAt.put(boot, when);
        kubelet.report(name, r);
      }
      if (line.startsWith("KUBEOS-E2E-JVM-MS ")) {
        jvmMs.put(boot, Long.parseLong(line.substring("KUBEOS-E2E-JVM-MS ".length()).strip()));
      }
      if (line.startsWith("KUBEOS-E2E-AGENT ")) {
        agentStatus.put(boot, line.substring("KUBEOS-E2E-AGENT ".length()));
      }
      if (SHOWN.matcher(line).find()) {
        say(String.format(Locale.ROOT, "    [%s boot %d +%s] %s", name, boot + 1, secs(at), line));
      }
    }

    void stop() throws InterruptedException, IOException {
      stopping = true;
      if (thread != null) {
        thread.interrupt();
        thread.join(TimeUnit.SECONDS.toMillis(30));
      }
      if (relay != null) {
        relay.close();
      }
    }
  }

  private void guestsAlive() {
    for (GuestRun g : guests.values()) {
      if (g.failure != null) {
        throw new AssertionError(g.name + " failed: " + g.failure, g.failure);
      }
    }
  }

  /** The node's job disk: its name and a kubeconfig for the API server as the guest reaches it. */
  private static Path jobDisk(Path dir, String node) throws IOException, InterruptedException {
    Path d = Files.createDirectories(dir.resolve("job"));
    Files.writeString(
        d.resolve("node.env"),
        "export NODE_NAME=" + node + "\nexport KUBECONFIG=/run/kubeos-e2e/kubeconfig\n");
    Files.writeString(
        d.resolve("kubeconfig"),
        "apiVersion: v1\nkind: Config\nclusters:\n- name: e2e\n  cluster:\n    server: http://"
            + GuestNetwork.HOST_ADDRESS
            + ":"
            + API_PORT
            + "\nusers:\n- name: "
            + node
            + "\n  user:\n    token: e2e-"
            + node
            + "\ncontexts:\n- name: e2e\n  context:\n    cluster: e2e\n    user: "
            + node
            + "\n    namespace: "
            + NS
            + "\ncurrent-context: e2e\n");
    Path img = dir.resolve("job.img");
    Host.run(
        List.of(
            "mkfs.ext4", "-q", "-F", "-L", "KUBEOS-JOB", "-d", d.toString(), img.toString(), "8M"));
    return img;
  }

  // ---- watching the rollout ----

  /** Each node's phases, cordons and what the rollout looked like at its reboot, as they happen. */
  static final class Timeline implements AutoCloseable {
    final Map<String, Map<String, Instant>> phases = new ConcurrentHashMap<>();
    final Map<String, Instant> cordonedAt = new ConcurrentHashMap<>();
    final Map<String, Instant> uncordonedAt = new ConcurrentHashMap<>();
    final Map<String, Integer> podsLeftAtReboot = new ConcurrentHashMap<>();
    final Map<String, String> bootIdAtReboot = new ConcurrentHashMap<>();
    final Map<String, String> failed = new ConcurrentHashMap<>();
    volatile int maxCordoned;
    private final Map<String, Boolean> cordonedNow = new ConcurrentHashMap<>();
    private final KubernetesClient client;
    private final SharedIndexInformer<OSInstance> instances;
    private final SharedIndexInformer<Node> nodes;

    Timeline(KubernetesClient client) {
      this.client = client;
      for (String n : NODES) {
        phases.put(n, new ConcurrentHashMap<>());
      }
      instances = client.resources(OSInstance.class).inNamespace(NS).inform(handler(this::on), 0);
      nodes = client.nodes().inform(handler(this::on), 0);
    }

    private static <T> ResourceEventHandler<T> handler(java.util.function.Consumer<T> c) {
      return new ResourceEventHandler<>() {
        @Override
        public void onAdd(T o) {
          c.accept(o);
        }

        @Override
        public void onUpdate(T a, T b) {
          c.accept(b);
        }

        @Override
        public void onDelete(T o, boolean unknown) {}
      };
    }

    private synchronized void on(OSInstance i) {
      String n = i.getMetadata().getName();
      if (i.getStatus() == null || i.getStatus().getPhase() == null || !phases.containsKey(n)) {
        return;
      }
      String phase = i.getStatus().getPhase();
      if (phases.get(n).putIfAbsent(phase, Instant.now()) == null && "Rebooting".equals(phase)) {
        podsLeftAtReboot.put(
            n,
            (int)
                client.pods().inNamespace(NS).list().getItems().stream()
                    .filter(p -> n.equals(p.getSpec().getNodeName()))
                    .count());
        if (i.getStatus().getBootid() != null) {
          bootIdAtReboot.put(n, i.getStatus().getBootid());
        }
      }
      if ("Failed".equals(phase)) {
        failed.put(n, String.valueOf(i.getStatus().getMessage()));
      }
    }

    private synchronized void on(Node node) {
      String n = node.getMetadata().getName();
      boolean cordoned = Boolean.TRUE.equals(node.getSpec().getUnschedulable());
      if (cordoned) {
        cordonedAt.putIfAbsent(n, Instant.now());
      } else if (cordonedAt.containsKey(n)) {
        uncordonedAt.putIfAbsent(n, Instant.now());
      }
      cordonedNow.put(n, cordoned);
      int now = (int) cordonedNow.values().stream().filter(Boolean::booleanValue).count();
      maxCordoned = Math.max(maxCordoned, now);
    }

    void failFast() {
      if (!failed.isEmpty()) {
        throw new AssertionError("a node failed: " + failed);
      }
    }

    @Override
    public void close() {
      instances.close();
      nodes.close();
    }
  }

  /** One node's step times. */
  record NodeSteps(
      Duration stage,
      Duration drain,
      Duration reboot,
      Duration healthCommit,
      Duration toDone,
      Duration cordoned) {
    static NodeSteps of(Map<String, Instant> ph, Timeline t, GuestRun g) {
      String n = g.name;
      Instant cordon = t.cordonedAt.get(n);
      Instant health = g.healthStartAt.get(1);
      Instant up = g.nodeLineAt.get(1);
      return new NodeSteps(
          between(ph.get("Staging"), ph.getOrDefault("Cordoning", cordon)),
          between(ph.get("Draining"), ph.get("Rebooting")),
          between(ph.get("Rebooting"), health != null ? health : up),
          between(health, up),
          between(up, ph.get("Done")),
          between(cordon, t.uncordonedAt.get(n)));
    }

    private static Duration between(Instant a, Instant b) {
      return a == null || b == null ? null : Duration.between(a, b);
    }
  }

  private static boolean converged(KubernetesClient c) {
    OS os = c.resources(OS.class).inNamespace(NS).withName("kubeos-upgrade").get();
    if (os == null || os.getStatus() == null || os.getStatus().getAtTarget() != NODES.size()) {
      return false;
    }
    boolean complete = false;
    for (Condition k : os.getStatus().getConditions()) {
      complete |= OSStatus.COMPLETE.equals(k.getType()) && "True".equals(k.getStatus());
    }
    if (!complete) {
      return false;
    }
    for (String n : NODES) {
      OSInstance i = c.resources(OSInstance.class).inNamespace(NS).withName(n).get();
      Node node = c.nodes().withName(n).get();
      if (i.getStatus() == null
          || !"Done".equals(i.getStatus().getPhase())
          || Boolean.TRUE.equals(node.getSpec().getUnschedulable())
          || !("KubeOS " + V2).equals(node.getStatus().getNodeInfo().getOsImage())) {
        return false;
      }
    }
    return true;
  }

  private static String osImage(KubernetesClient c, String node) {
    Node n = c.nodes().withName(node).get();
    return n == null ? null : n.getStatus().getNodeInfo().getOsImage();
  }

  private static List<String> nodeEvents(KubernetesClient c, String node) {
    return c.v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> "Node".equals(e.getInvolvedObject().getKind()))
        .filter(e -> node.equals(e.getInvolvedObject().getName()))
        .map(Event::getReason)
        .toList();
  }

  // ---- output ----

  /** A progress line at least every 20 s: each node's phase and console. */
  private void heartbeat(KubernetesClient c) {
    try {
      StringBuilder b = new StringBuilder("  ...");
      for (GuestRun g : guests.values()) {
        OSInstance i = c.resources(OSInstance.class).inNamespace(NS).withName(g.name).get();
        String phase = i == null || i.getStatus() == null ? "-" : i.getStatus().getPhase();
        b.append(' ')
            .append(g.name)
            .append(": boot ")
            .append(g.starts.size())
            .append(", phase ")
            .append(phase)
            .append(", console: ")
            .append(clip(g.lastLine, 60))
            .append(';');
      }
      say(b.toString());
    } catch (RuntimeException e) {
      say("  ... (heartbeat: " + e + ")");
    }
  }

  private static String clip(String s, int n) {
    return s.length() <= n ? s : s.substring(0, n) + "…";
  }

  private synchronized void say(String line) {
    Duration t = since(t0);
    System.out.printf(Locale.ROOT, "[%2d:%02d] %s%n", t.toMinutes(), t.toSecondsPart(), line);
    System.out.flush();
  }

  private static Duration since(long t0) {
    return Duration.ofNanos(System.nanoTime() - t0);
  }

  static String secs(Duration d) {
    return d == null ? "-" : String.format(Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
  }

  private static String mib(long bytes) {
    return String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
  }
}
