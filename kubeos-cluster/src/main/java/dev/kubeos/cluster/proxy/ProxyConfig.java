package dev.kubeos.cluster.proxy;

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
 */
public record ProxyConfig(
    Duration pollInterval,
    Duration rebootTimeout,
    Duration defaultDrainTimeout,
    int evictionParallelism,
    Duration evictionBackoff,
    Duration evictionBackoffMax) {

  /** Production defaults: 5 s polls, 15 min reboot, 10 min drain, 5 parallel evictions. */
  public static ProxyConfig defaults() {
    return new ProxyConfig(
        Duration.ofSeconds(5),
        Duration.ofMinutes(15),
        Duration.ofMinutes(10),
        5,
        Duration.ofSeconds(1),
        Duration.ofSeconds(30));
  }
}
