package dev.kubeos.crd;

/** Node label keys shared with upstream KubeOS (same keys, so mixed fleets keep working). */
public final class Labels {
  /** Set by the operator on a node it is upgrading or rolling back. */
  public static final String UPGRADING = "upgrade.openeuler.org/upgrading";

  /** Set by the operator on a node it is configuring. */
  public static final String CONFIGURING = "upgrade.openeuler.org/configuring";

  /** Value matched by {@code spec.nodeselector}. */
  public static final String NODE_SELECTOR = "upgrade.openeuler.org/node-selector";

  /** Marks control-plane nodes (Kubernetes' own key). */
  public static final String CONTROL_PLANE = "node-role.kubernetes.io/control-plane";

  /** Older control-plane key, still set by some installers. */
  public static final String MASTER = "node-role.kubernetes.io/master";

  /** {@code spec.nodeselector} value: nodes without the node-selector label (the default). */
  public static final String NO_LABEL = "no-label";

  /** {@code spec.nodeselector} value: every node. */
  public static final String ALL_LABEL = "all-label";

  private Labels() {}
}
