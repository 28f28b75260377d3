package dev.kubeos.cluster.proxy;

import dev.kubeos.cluster.proxy.model.DrainFilter;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import java.util.stream.Collectors;

/**
 * Drains a node through the Eviction API, so PodDisruptionBudgets are respected: an eviction the
 * API refuses with 429 (it would violate a budget) is retried with exponential backoff until the
 * deadline. At most {@code parallelism} pods are evicted at a time; an evicted pod counts as gone
 * when it no longer exists (or a new pod took its name).
 */
final class Drainer {
  private static final Logger LOG = Logger.getLogger(Drainer.class.getName());

  /** How a drain ended. {@code blocking}: pods still on the node or refused, named. */
  record Result(boolean complete, String message, List<String> blocking) {}

  private final KubernetesClient client;
  private final String nodeName;
  private final ProxyConfig config;
  private final Clock clock;

  Drainer(KubernetesClient client, String nodeName, ProxyConfig config, Clock clock) {
    this.client = client;
    this.nodeName = nodeName;
    this.config = config;
    this.clock = clock;
  }

  /** Pods bound to the node (field selector, checked again here). */
  List<Pod> podsOnNode() {
    return client
        .pods()
        .inAnyNamespace()
        .withField("spec.nodeName", nodeName)
        .list()
        .getItems()
        .stream()
        .filter(p -> p.getSpec() != null && nodeName.equals(p.getSpec().getNodeName()))
        .collect(Collectors.toList());
  }

  Result drain(boolean evictpodforce, Instant deadline) throws InterruptedException {
    DrainFilter.Selection sel = DrainFilter.select(podsOnNode(), evictpodforce);
    if (!sel.allowed()) {
      return new Result(
          false,
          "drain refused: these pods need evictpodforce: true in the OS resource: "
              + String.join("; ", sel.refused()),
          sel.refused());
    }
    ExecutorService pool =
        Executors.newFixedThreadPool(
            Math.max(1, Math.min(config.evictionParallelism(), sel.evict().size())),
            r -> {
              Thread t = new Thread(r, "kubeos-drain-" + nodeName);
              t.setDaemon(true);
              return t;
            });
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (Pod p : sel.evict()) {
        futures.add(pool.submit(() -> evictUntilGone(p, deadline)));
      }
      pool.shutdown();
      long waitMs = Math.max(0, Duration.between(clock.instant(), deadline).toMillis());
      pool.awaitTermination(waitMs + 1000, TimeUnit.MILLISECONDS);
      for (Future<?> f : futures) {
        if (f.isDone() && !f.isCancelled()) {
          try {
            f.get();
          } catch (java.util.concurrent.ExecutionException e) {
            LOG.warning("eviction on " + nodeName + " failed: " + e.getCause());
          }
        }
      }
    } finally {
      pool.shutdownNow();
    }
    List<String> left = stillThere(sel.evict());
    if (left.isEmpty()) {
      return new Result(true, "drained " + sel.evict().size() + " pods", List.of());
    }
    return new Result(
        false,
        "drain did not finish by the drain timeout; pods still on the node (a"
            + " PodDisruptionBudget or a slow shutdown holds them): "
            + String.join(", ", left),
        left);
  }

  private Void evictUntilGone(Pod pod, Instant deadline) throws InterruptedException {
    String ns = pod.getMetadata().getNamespace();
    String name = pod.getMetadata().getName();
    long backoff = config.evictionBackoff().toMillis();
    boolean evicted = false;
    while (clock.instant().isBefore(deadline)) {
      if (gone(pod)) {
        return null;
      }
      if (!evicted) {
        try {
          // false or 429: the eviction would violate a disruption budget (or the API is busy)
          evicted = client.pods().inNamespace(ns).withName(name).evict();
        } catch (KubernetesClientException e) {
          if (e.getCode() == 404) {
            return null;
          }
          if (e.getCode() != 429 && e.getCode() != 500 && e.getCode() != 503 && e.getCode() != 0) {
            throw e;
          }
          LOG.fine("evicting " + ns + "/" + name + ": " + e.getMessage() + "; retrying");
        }
      }
      if (evicted) {
        Thread.sleep(config.pollInterval().toMillis());
      } else {
        long left = Duration.between(clock.instant(), deadline).toMillis();
        Thread.sleep(Math.max(1, Math.min(backoff, left)));
        backoff = Math.min(backoff * 2, config.evictionBackoffMax().toMillis());
      }
    }
    return null;
  }

  private boolean gone(Pod pod) {
    Pod now =
        client
            .pods()
            .inNamespace(pod.getMetadata().getNamespace())
            .withName(pod.getMetadata().getName())
            .get();
    return now == null
        || !pod.getMetadata().getUid().equals(now.getMetadata().getUid())
        || !nodeName.equals(now.getSpec().getNodeName());
  }

  private List<String> stillThere(List<Pod> pods) {
    List<String> left = new ArrayList<>();
    for (Pod p : pods) {
      if (!gone(p)) {
        left.add(DrainFilter.name(p));
      }
    }
    return left;
  }
}
