package dev.kubeos.cluster.operator;

import java.time.Duration;

/**
 * How the operator runs.
 *
 * @param namespace namespace of the OS resources to act on; {@code null} for all namespaces
 * @param leaseNamespace namespace of the leader-election Lease; {@code null} to run without leader
 *     election (one replica only)
 * @param identity this replica's name in the Lease (the pod name in production)
 * @param leaseDuration how long a Lease holds without renewal
 * @param renewDeadline how long the leader retries renewing before it gives up leading
 * @param retryPeriod how often candidates try to acquire and the leader renews
 * @param debounce delay after a cache change before reconciling, so bursts make one pass
 * @param resync longest time between two passes when nothing changes
 */
public record OperatorConfig(
    String namespace,
    String leaseNamespace,
    String identity,
    Duration leaseDuration,
    Duration renewDeadline,
    Duration retryPeriod,
    Duration debounce,
    Duration resync) {

  /** Name of the Lease the replicas compete for. */
  public static final String LEASE_NAME = "kubeos-operator";

  /** Production timings: 15 s lease, 10 s renew deadline, 2 s retry, 200 ms debounce, 60 s. */
  public static OperatorConfig of(String namespace, String leaseNamespace, String identity) {
    return new OperatorConfig(
        namespace,
        leaseNamespace,
        identity,
        Duration.ofSeconds(15),
        Duration.ofSeconds(10),
        Duration.ofSeconds(2),
        Duration.ofMillis(200),
        Duration.ofSeconds(60));
  }

  public OperatorConfig withTimings(
      Duration lease, Duration renew, Duration retry, Duration debounce, Duration resync) {
    return new OperatorConfig(
        namespace, leaseNamespace, identity, lease, renew, retry, debounce, resync);
  }
}
