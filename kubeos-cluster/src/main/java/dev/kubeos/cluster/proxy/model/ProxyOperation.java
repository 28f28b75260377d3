package dev.kubeos.cluster.proxy.model;

import static dev.kubeos.cluster.proxy.model.Phase.CONFIGURING;
import static dev.kubeos.cluster.proxy.model.Phase.CORDONING;
import static dev.kubeos.cluster.proxy.model.Phase.DONE;
import static dev.kubeos.cluster.proxy.model.Phase.DRAINING;
import static dev.kubeos.cluster.proxy.model.Phase.REBOOTING;
import static dev.kubeos.cluster.proxy.model.Phase.STAGING;
import static dev.kubeos.cluster.proxy.model.Phase.UNCORDONING;
import static dev.kubeos.cluster.proxy.model.Phase.VERIFYING;

import dev.kubeos.crd.OSInstanceSpec;
import dev.kubeos.crd.OSSpec;
import java.util.List;

/**
 * What the operator assigned to the node ({@code OSInstance.spec.nodestatus}) and the phases that
 * operation goes through, in order. The transitions are this list: {@link #after(Phase)}.
 */
public enum ProxyOperation {
  /** Stage, cordon, drain, activate + reboot, verify, apply sysconfigs, uncordon. */
  UPGRADE(
      "upgrade",
      List.of(STAGING, CORDONING, DRAINING, REBOOTING, VERIFYING, CONFIGURING, UNCORDONING, DONE)),
  /** Apply sysconfigs in place: no drain, no reboot (as upstream). */
  CONFIG("config", List.of(CONFIGURING, DONE)),
  /** Cordon, drain, switch to the other slot + reboot, verify, uncordon (as upstream). */
  ROLLBACK("rollback", List.of(CORDONING, DRAINING, REBOOTING, VERIFYING, UNCORDONING, DONE));

  private final String nodestatus;
  private final List<Phase> steps;

  ProxyOperation(String nodestatus, List<Phase> steps) {
    this.nodestatus = nodestatus;
    this.steps = steps;
  }

  /** The {@code spec.nodestatus} value that assigns this operation. */
  public String nodestatus() {
    return nodestatus;
  }

  public List<Phase> steps() {
    return steps;
  }

  public Phase first() {
    return steps.get(0);
  }

  /** The phase that follows {@code phase} when its action succeeded. */
  public Phase after(Phase phase) {
    int i = steps.indexOf(phase);
    if (i < 0 || i == steps.size() - 1) {
      throw new IllegalArgumentException(phase + " has no successor in " + this + " " + steps);
    }
    return steps.get(i + 1);
  }

  /**
   * What an assignment works towards, the {@code status.target} of its attempt: the OS version for
   * upgrade and rollback; for config the sysconfigs version of the OSInstance's spec, else the OS
   * resource's. Null when it is not set. The proxy starts its attempt at it; the operator hands the
   * node back when the proxy reports the attempt at it over.
   */
  public String target(OSInstanceSpec spec, OSSpec os) {
    if (this == CONFIG) {
      String v = spec.getSysconfigs() == null ? null : spec.getSysconfigs().getVersion();
      if (v == null && os.getSysconfigs() != null) {
        v = os.getSysconfigs().getVersion();
      }
      return v;
    }
    return os.getOsversion();
  }

  /** The operation {@code spec.nodestatus} names, or null for {@code idle}, empty or unknown. */
  public static ProxyOperation of(String nodestatus) {
    for (ProxyOperation o : values()) {
      if (o.nodestatus.equals(nodestatus)) {
        return o;
      }
    }
    return null;
  }
}
