package dev.kubeos.cluster.proxy;

import dev.kubeos.cluster.proxy.model.PhaseTimeouts;
import dev.kubeos.crd.OSSpec;
import java.time.Duration;

/**
 * Timings of the node proxy.
 *
 * @param pollInterval pause between passes while waiting (reboot, missing resources) and between
 *     checks that an evicted pod is gone
 * @param rebootTimeout longest a requested reboot may take before the attempt fails
 * @param defaultDrainTimeout drain timeout when the OS resource sets no {@code draintimeout}
 * @param evictionParallelism most evictions in flight at once
 * @param evictionBackoff first wait after a refused (429) eviction; doubles per refusal
 * @param evictionBackoffMax longest wait between two eviction attempts of one pod
 * @param resync longest pause between two passes while nothing changes: the proxy watches its Node
 *     and OSInstance and looks again as soon as either changes, so this only bounds how late a
 *     timeout (reboot) or a change to the OS resource (not watched) is noticed
 */
public record ProxyConfig(
    Duration pollInterval,
    Duration rebootTimeout,
    Duration defaultDrainTimeout,
    int evictionParallelism,
    Duration evictionBackoff,
    Duration evictionBackoffMax,
    Duration resync) {

  /**
   * The phases' limits for an attempt at {@code os}: its {@code draintimeout} (seconds), else
   * {@link #defaultDrainTimeout}; {@link #rebootTimeout} for the reboot and for retrying a
   * transient agent error.
   *
   * @param os the OS resource's spec, null when it is unknown (no drain then)
   */
  public PhaseTimeouts timeouts(OSSpec os) {
    Duration drain =
        os == null || os.getDraintimeout() == null
            ? defaultDrainTimeout
            : Duration.ofSeconds(os.getDraintimeout());
    return new PhaseTimeouts(drain, rebootTimeout, rebootTimeout);
  }

  /**
   * Production defaults: 5 s polls (evicted pods gone, retried agent calls), 15 min reboot, 10 min
   * drain, 5 parallel evictions, 60 s resync.
   */
  public static ProxyConfig defaults() {
    return new ProxyConfig(
        Duration.ofSeconds(5),
        Duration.ofMinutes(15),
        Duration.ofMinutes(10),
        5,
        Duration.ofSeconds(1),
        Duration.ofSeconds(30),
        Duration.ofSeconds(60));
  }
}
