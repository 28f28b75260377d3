package dev.kubeos.cluster.operator;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElector;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The running operator: wins the Lease (if configured), then starts the informers and a
 * single-threaded loop that reconciles after cache changes (debounced), at the plans' {@code
 * retryAt}, and at least every {@code resync}. Losing the Lease stops acting at once.
 */
public final class Operator implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(Operator.class.getName());
  private static final Duration MIN_WAIT = Duration.ofMillis(50);
  private final KubernetesClient client;
  private final OperatorConfig config;
  private final OperatorMetrics metrics;
  private final Clock clock;
  private final ScheduledExecutorService loop;
  private final AtomicInteger passes = new AtomicInteger();
  private final CompletableFuture<Void> stopped = new CompletableFuture<>();
  private volatile ClusterCache cache;
  private volatile Reconciler reconciler;
  private volatile boolean leading;
  private ScheduledFuture<?> nextPass;
  private CompletableFuture<?> election;

  public Operator(
      KubernetesClient client, OperatorConfig config, OperatorMetrics metrics, Clock clock) {
    this.client = client;
    this.config = config;
    this.metrics = metrics;
    this.clock = clock;
    this.loop =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "kubeos-operator-" + config.identity());
              t.setDaemon(true);
              return t;
            });
  }

  /** Starts acting (without leader election) or starts competing for the Lease. */
  public void start() {
    if (config.leaseNamespace() == null) {
      loop.execute(this::startLeading);
      return;
    }
    LeaderElector elector =
        client
            .leaderElector()
            .withConfig(
                new LeaderElectionConfigBuilder()
                    .withName(OperatorConfig.LEASE_NAME)
                    .withLock(
                        new LeaseLock(
                            config.leaseNamespace(), OperatorConfig.LEASE_NAME, config.identity()))
                    .withLeaseDuration(config.leaseDuration())
                    .withRenewDeadline(config.renewDeadline())
                    .withRetryPeriod(config.retryPeriod())
                    .withReleaseOnCancel()
                    .withLeaderCallbacks(
                        new LeaderCallbacks(
                            () -> loop.execute(this::startLeading),
                            () -> loop.execute(this::stopLeading),
                            leader -> LOG.info(() -> "leader is now " + leader)))
                    .build())
            .build();
    election = elector.start();
  }

  /** Whether this replica currently acts. */
  public boolean leading() {
    return leading;
  }

  /** Completes when this replica lost the Lease after having held it (or was closed). */
  public CompletableFuture<Void> stopped() {
    return stopped;
  }

  /** Reconcile passes run so far. */
  public int passes() {
    return passes.get();
  }

  private void startLeading() {
    LOG.info(() -> config.identity() + " leads: starting informers");
    cache = new ClusterCache(client, config.namespace(), this::changed);
    ClusterWriter writer = new ClusterWriter(client, "kubeos-operator");
    reconciler =
        new Reconciler(
            cache,
            writer,
            metrics,
            clock,
            config.instanceNamespace(),
            new NodeDrains(client, writer, config.drain()));
    leading = true;
    schedule(Duration.ZERO);
  }

  private void stopLeading() {
    if (!leading) {
      return;
    }
    leading = false;
    LOG.warning(() -> config.identity() + " stopped leading: no more writes");
    if (nextPass != null) {
      nextPass.cancel(false);
    }
    cache.close();
    stopped.complete(null);
  }

  private void changed() {
    loop.execute(() -> schedule(config.debounce()));
  }

  /** Schedules the next pass in {@code delay} unless one is due sooner. Runs on the loop. */
  private void schedule(Duration delay) {
    if (!leading) {
      return;
    }
    if (nextPass != null && !nextPass.isDone()) {
      if (nextPass.getDelay(TimeUnit.MILLISECONDS) <= delay.toMillis()) {
        return;
      }
      nextPass.cancel(false);
    }
    nextPass = loop.schedule(this::pass, Math.max(0, delay.toMillis()), TimeUnit.MILLISECONDS);
  }

  private void pass() {
    if (!leading) {
      return;
    }
    Duration wait = config.resync();
    try {
      Optional<Instant> retry = reconciler.reconcile();
      passes.incrementAndGet();
      if (retry.isPresent()) {
        Duration until = Duration.between(clock.instant(), retry.get());
        wait = until.compareTo(wait) < 0 ? until : wait;
      }
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "reconcile failed; retrying in 2 s: " + e.getMessage(), e);
      wait = Duration.ofSeconds(2);
    }
    nextPass = null;
    // a retryAt in the past must not spin the loop
    schedule(wait.compareTo(MIN_WAIT) < 0 ? MIN_WAIT : wait);
  }

  @Override
  public void close() {
    if (election != null) {
      election.cancel(true);
    }
    CompletableFuture<Void> done = new CompletableFuture<>();
    loop.execute(
        () -> {
          stopLeading();
          done.complete(null);
        });
    try {
      done.get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.log(Level.FINE, "operator loop did not stop in time", e);
    }
    loop.shutdownNow();
    stopped.complete(null);
  }
}
