package dev.kubeos.cli;

import dev.kubeos.api.Json;
import dev.kubeos.cluster.plan.NodeFacts;
import dev.kubeos.cluster.plan.NodeFactsReader;
import dev.kubeos.cluster.plan.RolloutPlan;
import dev.kubeos.cluster.plan.Simulation;
import dev.kubeos.crd.OS;
import dev.kubeos.crd.OSInstance;
import dev.kubeos.crd.OSSpec;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesList;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.fabric8.kubernetes.client.vertx5.Vertx5HttpClientFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code kubeos plan}: the batches the operator's planner would run for an OS resource, assuming
 * each batch succeeds, and why every other node is skipped. Reads the cluster from a file ({@code
 * --nodes}) or, without one, from the live cluster through list calls. Changes nothing.
 */
@Command(
    name = "plan",
    mixinStandardHelpOptions = true,
    description = {
      "Print the batches the rollout planner would run for an OS resource, assuming each batch",
      "succeeds, and why every other node is skipped. The cluster is read live (--kubeconfig,",
      "read-only) or offline from the output of",
      "'kubectl get nodes,pods,poddisruptionbudgets,osinstances -A -o yaml' (--nodes)."
    })
final class PlanCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = {"-f", "--filename"},
      required = true,
      paramLabel = "OS_YAML",
      description = "The OS resource (YAML or JSON).")
  Path osFile;

  @Option(
      names = "--nodes",
      paramLabel = "FILE",
      description = {
        "Offline: a List of nodes, pods, poddisruptionbudgets and osinstances (kubectl -o yaml).",
        "Without it the live cluster is read (read-only)."
      })
  Path nodesFile;

  @Option(
      names = "--kubeconfig",
      paramLabel = "FILE",
      description =
          "kubeconfig of the live cluster (default: in-cluster service account, then"
              + " ~/.kube/config). Ignored with --nodes.")
  Path kubeconfig;

  @Option(
      names = "--now",
      paramLabel = "TIME",
      description = "Plan as of this instant (RFC 3339, e.g. 2026-03-02T23:00:00Z); default: now.")
  String now;

  @Option(names = "--json", description = "Print {\"batches\": [[...]], \"skipped\": {...}}.")
  boolean json;

  @Override
  public Integer call() throws IOException {
    KubernetesSerialization serialization = new KubernetesSerialization();
    serialization.registerKubernetesResource(OS.class);
    serialization.registerKubernetesResource(OSInstance.class);
    OS os = read(serialization, osFile, OS.class);
    if (os == null || os.getSpec() == null) {
      throw new IllegalArgumentException(osFile + " holds no OS resource with a spec");
    }
    List<HasMetadata> items;
    if (nodesFile != null) {
      KubernetesList list = read(serialization, nodesFile, KubernetesList.class);
      items = list == null || list.getItems() == null ? List.of() : list.getItems();
    } else {
      items = readLive(os.instanceNamespace());
    }
    List<NodeFacts> nodes = NodeFactsReader.of(items, os.instanceNamespace());
    Instant at = now == null ? Instant.now() : parseNow(now);
    Simulation sim = Simulation.run(os.getSpec(), nodes, at, Duration.ZERO);
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("batches", sim.batches());
      Map<String, String> skipped = new LinkedHashMap<>();
      sim.skipped().forEach((node, skip) -> skipped.put(node, skip.message()));
      doc.put("skipped", skipped);
      out.println(Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(doc));
    } else {
      printText(out, os, nodes.size(), sim);
    }
    out.flush();
    return 0;
  }

  private static void printText(PrintWriter out, OS os, int nodeCount, Simulation sim) {
    OSSpec s = os.getSpec();
    RolloutPlan last = sim.finalPlan();
    out.printf(
        "OS %s: %s to %s over %d nodes (maxunavailable %d, %s, nodeselector %s)%n",
        os.getMetadata() == null ? "?" : os.getMetadata().getName(),
        s.getOpstype() == null ? "?" : s.getOpstype().wireName(),
        last.target() == null ? "?" : last.target(),
        nodeCount,
        s.getMaxunavailable(),
        s.getExecutionmode() == null ? "parallel" : s.getExecutionmode().wireName(),
        s.getNodeselector() == null ? "no-label" : s.getNodeselector());
    if (sim.batches().isEmpty()) {
      out.println("no batch: nothing would start");
    }
    for (int i = 0; i < sim.batches().size(); i++) {
      out.printf(
          "batch %d at %s: %s%n",
          i + 1, sim.batchStarts().get(i), String.join(", ", sim.batches().get(i)));
    }
    if (!sim.skipped().isEmpty()) {
      out.println("skipped:");
      sim.skipped().forEach((node, skip) -> out.printf("  %s: %s%n", node, skip.message()));
    }
    for (RolloutPlan.PlanCondition c : last.conditions()) {
      if (c.status()) {
        out.printf("then: %s (%s) %s%n", c.type(), c.reason(), c.message());
      }
    }
  }

  /**
   * The live cluster's nodes, pods (all namespaces), PodDisruptionBudgets (all namespaces) and the
   * OSInstances of {@code namespace}: list calls only, the same objects {@code kubectl get
   * nodes,pods,poddisruptionbudgets,osinstances -A} returns.
   */
  private List<HasMetadata> readLive(String namespace) throws IOException {
    Config config;
    if (kubeconfig == null) {
      config = Config.autoConfigure(null);
    } else {
      if (!Files.isRegularFile(kubeconfig)) {
        throw new IllegalArgumentException(
            "--kubeconfig " + kubeconfig + " does not exist or is not a file");
      }
      config = Config.fromKubeconfig(Files.readString(kubeconfig));
    }
    try (KubernetesClient client =
        new KubernetesClientBuilder()
            .withHttpClientFactory(new Vertx5HttpClientFactory())
            .withConfig(config)
            .build()) {
      List<HasMetadata> items = new ArrayList<>();
      items.addAll(client.nodes().list().getItems());
      items.addAll(client.pods().inAnyNamespace().list().getItems());
      items.addAll(client.policy().v1().podDisruptionBudget().inAnyNamespace().list().getItems());
      items.addAll(client.resources(OSInstance.class).inNamespace(namespace).list().getItems());
      return items;
    } catch (KubernetesClientException e) {
      throw new IllegalArgumentException(
          "cannot read the cluster at "
              + config.getMasterUrl()
              + ": "
              + e.getMessage()
              + " (check --kubeconfig, or pass --nodes FILE to plan offline)",
          e);
    }
  }

  private static Instant parseNow(String text) {
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(
          "--now '" + text + "' is not an RFC 3339 instant such as 2026-03-02T23:00:00Z");
    }
  }

  private static <T> T read(KubernetesSerialization s, Path file, Class<T> type)
      throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(file + " does not exist or is not a file");
    }
    try (InputStream in = Files.newInputStream(file)) {
      return s.unmarshal(in, type);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          "cannot read " + file + " as " + type.getSimpleName() + ": " + e.getMessage(), e);
    }
  }
}
