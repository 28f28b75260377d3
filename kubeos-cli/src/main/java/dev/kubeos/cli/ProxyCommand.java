package dev.kubeos.cli;

import dev.kubeos.api.agent.AgentMethods;
import dev.kubeos.cluster.proxy.NodeProxy;
import dev.kubeos.cluster.proxy.ProxyConfig;
import dev.kubeos.cluster.proxy.ProxySerialization;
import dev.kubeos.cluster.proxy.SocketAgentClient;
import dev.kubeos.crd.Namespaces;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code kubeos proxy}: the per-node proxy (run by the DaemonSet in deploy/proxy/). */
@Command(
    name = "proxy",
    mixinStandardHelpOptions = true,
    description =
        "Drive this node's OSInstance: stage, cordon, wait for kubeos-operator's drain, reboot"
            + " through the agent, verify, configure, uncordon (docs/operator.md, section Proxy).")
final class ProxyCommand implements Callable<Integer> {
  @Option(
      names = "--node",
      defaultValue = "${env:NODE_NAME}",
      description = "this node's name (default: env NODE_NAME, set by the DaemonSet)")
  String node;

  @Option(
      names = "--namespace",
      defaultValue = Namespaces.DEFAULT,
      description =
          "namespace of the OSInstances, where the proxy registers its node (default:"
              + " ${DEFAULT-VALUE}, as upstream; the operator's --osinstance-namespace must match)")
  String namespace;

  @Option(
      names = "--socket",
      defaultValue = AgentMethods.DEFAULT_SOCKET,
      description = "the agent's socket (default: ${DEFAULT-VALUE})")
  Path socket;

  @Option(
      names = "--agent-timeout",
      defaultValue = "PT30M",
      description = "longest wait for one agent call, ISO-8601 (default: ${DEFAULT-VALUE})")
  Duration agentTimeout;

  @Override
  public Integer call() throws InterruptedException {
    if (node == null || node.isBlank()) {
      throw new IllegalArgumentException(
          "no node name: pass --node or set NODE_NAME (the DaemonSet sets it from spec.nodeName)");
    }
    // few client-side retries: a failed pass is retried by the proxy's loop
    Config config =
        new ConfigBuilder(Config.autoConfigure(null))
            .withRequestRetryBackoffLimit(2)
            .withRequestRetryBackoffInterval(250)
            .build();
    // the JDK's HTTP client, not fabric8's default Vert.x: no Netty event loops, buffer pools and
    // Vert.x timer threads in a process resident on every node; and a serialization that knows the
    // proxy's kinds only (docs/benchmarks.md, "Agent and proxy memory (issue 14)")
    try (KubernetesClient client =
        new KubernetesClientBuilder()
            .withHttpClientFactory(new JdkHttpClientFactory())
            .withKubernetesSerialization(ProxySerialization.create())
            .withConfig(config)
            .build()) {
      NodeProxy proxy =
          new NodeProxy(
              client,
              node,
              namespace,
              SocketAgentClient.lazy(socket, agentTimeout),
              ProxyConfig.defaults(),
              Clock.systemUTC());
      // SIGTERM (pod deletion, DaemonSet update): the step in flight gets 5 s, then it is
      // cancelled, a stalled API or agent call included; the next proxy resumes from the status
      Thread onTerm =
          new Thread(
              () -> {
                try {
                  proxy.stop(Duration.ofSeconds(5), Duration.ofSeconds(10));
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              },
              "kubeos-proxy-sigterm");
      Runtime.getRuntime().addShutdownHook(onTerm);
      proxy.run(() -> !Thread.currentThread().isInterrupted());
    }
    return 0;
  }
}
