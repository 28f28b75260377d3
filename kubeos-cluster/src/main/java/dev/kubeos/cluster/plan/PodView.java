package dev.kubeos.cluster.plan;

/**
 * What the planner needs of a pod bound to a node: its summed container requests and whether a
 * drain would evict it (DaemonSet and mirror pods stay; finished pods need no room).
 */
public record PodView(
    String namespace,
    String name,
    Resources requests,
    boolean daemonSet,
    boolean mirror,
    boolean terminal) {

  /** A running pod owned by a controller that a drain would evict. */
  public static PodView evictable(String namespace, String name, Resources requests) {
    return new PodView(namespace, name, requests, false, false, false);
  }

  /** Whether a drain evicts this pod and it then needs room elsewhere. */
  public boolean evictedByDrain() {
    return !daemonSet && !mirror && !terminal;
  }
}
