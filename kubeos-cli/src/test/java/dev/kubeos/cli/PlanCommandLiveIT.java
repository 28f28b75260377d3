package dev.kubeos.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubeos.crd.OS;
import dev.kubeos.crd.OSInstance;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesList;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kubeos plan --kubeconfig}: the same fixture cluster as {@link PlanCommandIT}, created on
 * fabric8's mock API server in CRUD mode; the live plan equals the offline plan and the command
 * sends only GET requests.
 */
class PlanCommandLiveIT {
  private KubernetesMockServer server;
  private Path kubeconfig;

  @BeforeEach
  void startCluster(@TempDir Path dir) throws Exception {
    server =
        new KubernetesMockServer(
            new Context(),
            new MockWebServer(),
            new HashMap<>(),
            new KubernetesCrudDispatcher(),
            false);
    server.init(InetAddress.getLoopbackAddress(), 0);
    try (KubernetesClient client = server.createClient()) {
      for (String f : new String[] {"os", "osinstances"}) {
        Path crd = Path.of("..", "deploy", "crds", f + ".upgrade.openeuler.org-v1.yml");
        client.apiextensions().v1().customResourceDefinitions().load(crd.toFile()).create();
      }
      KubernetesSerialization serialization = new KubernetesSerialization();
      serialization.registerKubernetesResource(OS.class);
      serialization.registerKubernetesResource(OSInstance.class);
      KubernetesList list;
      try (InputStream in = Files.newInputStream(PlanCommandIT.fixture("cluster.yaml"))) {
        list = serialization.unmarshal(in, KubernetesList.class);
      }
      assertThat(list.getItems()).hasSize(16); // 6 nodes, 4 pods, 1 PDB, 5 OSInstances
      for (HasMetadata item : list.getItems()) {
        client.resource(item).create();
      }
    }
    kubeconfig = dir.resolve("kubeconfig");
    Files.writeString(
        kubeconfig,
        String.join(
            "\n",
            "apiVersion: v1",
            "kind: Config",
            "clusters:",
            "- name: mock",
            "  cluster:",
            "    server: " + server.url("/").replaceAll("/$", ""),
            "users:",
            "- name: tester",
            "  user:",
            "    token: not-checked",
            "contexts:",
            "- name: mock",
            "  context:",
            "    cluster: mock",
            "    user: tester",
            "current-context: mock",
            ""));
  }

  @AfterEach
  void stop() {
    server.destroy();
  }

  private List<String> methodsSince(int count) throws InterruptedException {
    List<String> methods = new ArrayList<>();
    for (int i = count; i < server.getRequestCount(); i++) {
      var r = server.takeRequest(5, TimeUnit.SECONDS);
      methods.add(r.getMethod() + " " + r.getPath());
    }
    return methods;
  }

  @Test
  void livePlanEqualsOfflinePlanAndOnlyReads() throws Exception {
    methodsSince(0); // drop the set-up requests
    int before = server.getRequestCount();
    String[] live =
        plan("--kubeconfig", kubeconfig.toString(), "--now", "2026-03-02T23:00:00Z", "--json");
    assertThat(live[0]).as(live[2]).isEqualTo("0");
    List<String> requests = methodsSince(before);
    assertThat(requests).hasSize(4).allMatch(r -> r.startsWith("GET "));
    assertThat(String.join(" ", requests))
        .contains("/api/v1/nodes")
        .contains("/api/v1/pods")
        .contains("/apis/policy/v1/poddisruptionbudgets")
        .contains("/apis/upgrade.openeuler.org/v1alpha1/namespaces/default/osinstances");

    String[] offline =
        plan(
            "--nodes",
            PlanCommandIT.fixture("cluster.yaml").toString(),
            "--now",
            "2026-03-02T23:00:00Z",
            "--json");
    assertThat(offline[0]).isEqualTo("0");
    assertThat(live[1]).isEqualTo(offline[1]);
    assertThat(live[1]).contains("[ [ \"w1\" ], [ \"w2\" ] ]").contains("no OSInstance");
  }

  @Test
  void liveTextPlanEqualsOfflineTextPlan() throws Exception {
    String[] live = plan("--kubeconfig", kubeconfig.toString(), "--now", "2026-03-02T23:00:00Z");
    String[] offline =
        plan(
            "--nodes",
            PlanCommandIT.fixture("cluster.yaml").toString(),
            "--now",
            "2026-03-02T23:00:00Z");
    assertThat(live[0]).as(live[2]).isEqualTo("0");
    assertThat(live[1]).isEqualTo(offline[1]).contains("batch 2 at 2026-03-02T23:00:15Z: w2");
  }

  @Test
  void missingKubeconfigIsReportedReadably(@TempDir Path dir) throws Exception {
    String[] r = plan("--kubeconfig", dir.resolve("absent").toString());
    assertThat(r[0]).isEqualTo("2");
    assertThat(r[2]).contains("--kubeconfig").contains("does not exist");
  }

  /** {@code kubeos plan -f os.yaml ARGS} on the shared fixture. */
  private static String[] plan(String... args) throws Exception {
    String[] all = new String[args.length + 3];
    all[0] = "plan";
    all[1] = "-f";
    all[2] = PlanCommandIT.fixture("os.yaml").toString();
    System.arraycopy(args, 0, all, 3, args.length);
    return PlanCommandIT.run(all);
  }
}
