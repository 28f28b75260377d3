package dev.kubeos.cluster.operator;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Prometheus metrics of the operator (Micrometer): nodes by rollout state and by OS version, the
 * duration of node operations and of whole rollouts, failures, starts and reconcile time.
 */
public final class OperatorMetrics implements AutoCloseable {
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Map<Tags, AtomicInteger> gauges = new ConcurrentHashMap<>();
  private HttpServer server;

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Sets {@code kubeos_nodes{os,state}} for one OS resource to {@code counts}. */
  public synchronized void nodes(String os, Map<String, Integer> counts) {
    gauges.forEach(
        (tags, v) -> {
          if (tags.stream().anyMatch(t -> t.getKey().equals("os") && t.getValue().equals(os))) {
            v.set(0);
          }
        });
    counts.forEach((state, n) -> gauge("kubeos_nodes", Tags.of("os", os, "state", state)).set(n));
  }

  /** Sets {@code kubeos_node_versions{version}}: nodes per {@code status.nodeInfo.osImage}. */
  public synchronized void versions(Map<String, Integer> counts) {
    gauges.forEach(
        (tags, v) -> {
          if (tags.stream().anyMatch(t -> t.getKey().equals("version"))) {
            v.set(0);
          }
        });
    counts.forEach((ver, n) -> gauge("kubeos_node_versions", Tags.of("version", ver)).set(n));
  }

  private AtomicInteger gauge(String name, Tags tags) {
    return gauges.computeIfAbsent(
        tags.and("metric", name),
        k -> {
          AtomicInteger v = new AtomicInteger();
          Gauge.builder(name, v, AtomicInteger::get).tags(tags).register(registry);
          return v;
        });
  }

  /** A node finished its operation (start to end as its proxy reported them). */
  public void nodeDone(String os, String operation, Duration took) {
    Timer.builder("kubeos_node_operation_duration")
        .tags("os", os, "operation", operation)
        .register(registry)
        .record(took);
  }

  /** A node failed at the current target. */
  public void nodeFailed(String os) {
    registry.counter("kubeos_node_failures", "os", os).increment();
  }

  /** Nodes started. */
  public void nodesStarted(String os, int n) {
    registry.counter("kubeos_node_starts", "os", os).increment(n);
  }

  /** A rollout became Complete, {@code took} after its first node started. */
  public void rolloutComplete(String os, Duration took) {
    Timer.builder("kubeos_rollout_duration").tags("os", os).register(registry).record(took);
  }

  /** One reconcile pass over all OS resources. */
  public void reconciled(Duration took) {
    registry.timer("kubeos_reconcile_duration").record(took);
  }

  /** Serves {@code GET /metrics} in the Prometheus text format; returns the bound port. */
  public synchronized int serve(String host, int port) throws IOException {
    server = HttpServer.create(new InetSocketAddress(host, port), 16);
    server.createContext(
        "/metrics",
        ex -> {
          byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
          ex.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
          ex.sendResponseHeaders(200, body.length);
          try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
          }
        });
    server.start();
    return server.getAddress().getPort();
  }

  @Override
  public synchronized void close() {
    if (server != null) {
      server.stop(0);
    }
    registry.close();
  }
}
