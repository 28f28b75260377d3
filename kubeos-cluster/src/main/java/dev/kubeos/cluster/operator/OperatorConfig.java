package dev.kubeos.cluster.operator;

import dev.kubeos.crd.Namespaces;
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
 * @param instanceNamespace the namespace the proxies register their nodes' OSInstances in (their
 *     {@code --namespace}; upstream's {@code default}): an OS whose {@code osinstancenamespace}
 *     names another is refused, its nodes would never have an OSInstance
 * @param drain how the operator drains nodes for their proxies ({@link NodeDrains})
 */
public record OperatorConfig(
    String namespace,
    String leaseNamespace,
    String identity,
    Duration leaseDuration,
    Duration renewDeadline,
    Duration retryPeriod,
    Duration debounce,
    Duration resync,
    String instanceNamespace,
    NodeDrains.Settings drain) {

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
        Duration.ofSeconds(60),
        Namespaces.DEFAULT,
        NodeDrains.Settings.defaults());
  }

  public OperatorConfig withTimings(
      Duration lease, Duration renew, Duration retry, Duration debounce, Duration resync) {
    return new OperatorConfig(
        namespace,
        leaseNamespace,
        identity,
        lease,
        renew,
        retry,
        debounce,
        resync,
        instanceNamespace,
        drain);
  }

  /** This config with the proxies' OSInstance namespace {@code ns} (null: {@code default}). */
  public OperatorConfig withInstanceNamespace(String ns) {
    return new OperatorConfig(
        namespace,
        leaseNamespace,
        identity,
        leaseDuration,
        renewDeadline,
        retryPeriod,
        debounce,
        resync,
        Namespaces.orDefault(ns),
        drain);
  }

  /** This config with the drain settings {@code d}. */
  public OperatorConfig withDrain(NodeDrains.Settings d) {
    return new OperatorConfig(
        namespace,
        leaseNamespace,
        identity,
        leaseDuration,
        renewDeadline,
        retryPeriod,
        debounce,
        resync,
        instanceNamespace,
        d);
  }
}
