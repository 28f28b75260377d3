package dev.kubeos.cluster.plan;

import dev.kubeos.crd.ExecutionMode;
import dev.kubeos.crd.Labels;
import dev.kubeos.crd.OSSpec;
import dev.kubeos.crd.OpsType;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Optional;

/**
 * An {@link OSSpec} checked and read with its defaults applied. Construction fails with a readable
 * {@link IllegalArgumentException} for specs the CRD schema cannot reject.
 */
record SpecRules(
    OpsType ops,
    String target,
    int maxUnavailable,
    boolean serial,
    String selector,
    boolean controlPlane,
    Optional<Window> window,
    ZoneId zone,
    Duration interval,
    int canaryCount,
    Duration canarySoak,
    int failureBudget,
    boolean paused) {

  static SpecRules of(OSSpec s) {
    if (s == null) {
      throw new IllegalArgumentException("the OS resource has no spec");
    }
    if (s.getOpstype() == null) {
      throw new IllegalArgumentException(
          "spec.opstype is missing: set it to upgrade, config or rollback");
    }
    String target;
    if (s.getOpstype() == OpsType.CONFIG) {
      target = s.getSysconfigs() == null ? null : s.getSysconfigs().getVersion();
      if (blank(target)) {
        throw new IllegalArgumentException(
            "spec.opstype is config but spec.sysconfigs.version is empty: set the version that"
                + " nodes report once configured");
      }
    } else {
      target = s.getOsversion();
      if (blank(target)) {
        throw new IllegalArgumentException(
            "spec.opstype is "
                + s.getOpstype().wireName()
                + " but spec.osversion is empty: set the version nodes should run");
      }
    }
    if (s.getMaxunavailable() < 0) {
      throw new IllegalArgumentException(
          "spec.maxunavailable is " + s.getMaxunavailable() + ": it must be 0 or more");
    }
    ZoneId zone = ZoneOffset.UTC;
    if (!blank(s.getTimezone())) {
      try {
        zone = ZoneId.of(s.getTimezone().trim());
      } catch (DateTimeException e) {
        throw new IllegalArgumentException(
            "spec.timezone '"
                + s.getTimezone()
                + "' is not a zone: use an IANA name such as"
                + " Europe/Berlin");
      }
    }
    Optional<Window> window = Window.parse(s.getTimewindow());
    return new SpecRules(
        s.getOpstype(),
        target,
        s.getMaxunavailable(),
        s.getExecutionmode() == ExecutionMode.SERIAL,
        blank(s.getNodeselector()) ? Labels.NO_LABEL : s.getNodeselector().trim(),
        s.isControlplane(),
        window,
        zone,
        Duration.ofSeconds(nonNegative(s.getTimeinterval(), 15)),
        nonNegative(s.getCanarycount(), 0),
        Duration.ofSeconds(nonNegative(s.getCanarysoak(), 0)),
        s.getFailurebudget() == null || s.getFailurebudget() < 1
            ? Integer.MAX_VALUE
            : s.getFailurebudget(),
        s.isPause());
  }

  /** Upstream's selector: {@code all-label}, {@code no-label}, or a value of the label. */
  boolean selects(Map<String, String> labels) {
    String value = labels.get(Labels.NODE_SELECTOR);
    if (Labels.ALL_LABEL.equals(selector)) {
      return true;
    }
    if (Labels.NO_LABEL.equals(selector)) {
      return value == null;
    }
    return selector.equals(value);
  }

  /** Whether the node already runs the target. */
  boolean atTarget(NodeFacts n) {
    if (ops == OpsType.CONFIG) {
      return n.instance() != null && target.equals(n.instance().configVersion());
    }
    return target.equals(n.osImage());
  }

  /**
   * Whether the node's proxy reported this upgrade target {@code Done} (it verified the version
   * after the reboot) while the Node's osImage, as this snapshot has it, is another version.
   */
  boolean doneButNotReported(NodeFacts n) {
    InstanceView i = n.instance();
    return ops != OpsType.CONFIG
        && i != null
        && "Done".equals(i.phase())
        && target.equals(i.target())
        && !target.equals(n.osImage());
  }

  /** Whether the node's last attempt at this target failed. */
  boolean failed(NodeFacts n) {
    InstanceView i = n.instance();
    return i != null && "Failed".equals(i.phase()) && target.equals(i.target());
  }

  /** Whether the node's OSInstance records work on this target ({@code status.target}). */
  boolean workedOn(NodeFacts n) {
    return n.instance() != null && target.equals(n.instance().target());
  }

  ExecutionMode mode() {
    return serial ? ExecutionMode.SERIAL : ExecutionMode.PARALLEL;
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }

  private static int nonNegative(Integer v, int dflt) {
    return v == null || v < 0 ? dflt : v;
  }
}
