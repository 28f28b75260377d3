package dev.kubeos.cli;

import dev.kubeos.cluster.operator.Operator;
import dev.kubeos.cluster.operator.OperatorConfig;
import dev.kubeos.cluster.operator.OperatorMetrics;
import dev.kubeos.crd.Namespaces;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.vertx5.Vertx5HttpClientFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code kubeos operator}: runs the rollout operator until it loses leadership or is stopped. Wires
 * the client, the metrics endpoint and the {@link Operator}; all logic lives in kubeos-cluster.
 */
@Command(
    name = "operator",
    mixinStandardHelpOptions = true,
    description =
        "Run the KubeOS operator: plan every OS resource and write the desired state into the"
            + " OSInstances of the nodes it starts, with status, Events, Prometheus metrics and"
            + " leader election (exits when leadership is lost, so that the Deployment restarts"
            + " it).")
final class OperatorCommand implements Callable<Integer> {
  @Option(
      names = "--kubeconfig",
      paramLabel = "FILE",
      description = "kubeconfig file (default: in-cluster service account, then ~/.kube/config).")
  Path kubeconfig;

  @Option(
      names = "--namespace",
      paramLabel = "NS",
      description = "Act only on OS resources in this namespace (default: all namespaces).")
  String namespace;

  @Option(
      names = "--osinstance-namespace",
      paramLabel = "NS",
      defaultValue = Namespaces.DEFAULT,
      description =
          "Namespace the proxies register the OSInstances in: their --namespace (default:"
              + " ${DEFAULT-VALUE}, as upstream). An OS whose osinstancenamespace names another"
              + " is refused (Halted, reason InstanceNamespace).")
  String instanceNamespace;

  @Option(
      names = "--lease-namespace",
      paramLabel = "NS",
      description =
          "Namespace of the leader-election Lease 'kubeos-operator' (default: the pod's"
              + " namespace, else kube-system). 'none' runs without leader election.")
  String leaseNamespace;

  @Option(
      names = "--metrics-port",
      paramLabel = "N",
      defaultValue = "8080",
      description = "Port of GET /metrics (Prometheus text format) on 0.0.0.0 (default 8080).")
  int metricsPort;

  @Option(
      names = "--metrics-address",
      paramLabel = "ADDR",
      defaultValue = "0.0.0.0",
      description = "Address the metrics endpoint binds to (default 0.0.0.0).")
  String metricsAddress;

  @Override
  public Integer call() throws Exception {
    Config config =
        kubeconfig == null
            ? Config.autoConfigure(null)
            : Config.fromKubeconfig(Files.readString(kubeconfig));
    String identity = System.getenv().getOrDefault("POD_NAME", hostname());
    String lease = leaseNamespace == null ? defaultLeaseNamespace() : leaseNamespace;
    try (KubernetesClient client =
            new KubernetesClientBuilder()
                .withHttpClientFactory(new Vertx5HttpClientFactory())
                .withConfig(config)
                .build();
        OperatorMetrics metrics = new OperatorMetrics()) {
      int port = metrics.serve(metricsAddress, metricsPort);
      OperatorConfig cfg =
          OperatorConfig.of(namespace, "none".equals(lease) ? null : lease, identity)
              .withInstanceNamespace(instanceNamespace);
      try (Operator operator = new Operator(client, cfg, metrics, Clock.systemUTC())) {
        Runtime.getRuntime().addShutdownHook(new Thread(operator::close));
        System.err.printf(
            "kubeos operator %s: metrics on %s:%d, lease %s%n",
            identity, metricsAddress, port, cfg.leaseNamespace());
        operator.start();
        operator.stopped().join();
        System.err.println("kubeos operator: leadership lost or stopped; exiting");
        return 1;
      }
    }
  }

  private static String defaultLeaseNamespace() {
    Path ns = Path.of("/var/run/secrets/kubernetes.io/serviceaccount/namespace");
    try {
      return Files.isReadable(ns) ? Files.readString(ns).trim() : "kube-system";
    } catch (java.io.IOException e) {
      return "kube-system";
    }
  }

  private static String hostname() {
    String h = System.getenv("HOSTNAME");
    return h == null || h.isBlank() ? "kubeos-operator-" + ProcessHandle.current().pid() : h;
  }
}
