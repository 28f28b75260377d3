package dev.kubeos.crd;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn.Type;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;
import java.util.Map;

/**
 * One node's upgrade record, named after the node and labelled {@link #NODE_LABEL}={@code <node>}:
 * {@code upgrade.openeuler.org/v1alpha1}, kind {@code OSInstance}, namespaced.
 */
@Group(OS.GROUP)
@Version(OS.VERSION)
@Kind("OSInstance")
@Plural("osinstances")
@Singular("osinstance")
// upstream's columns first, with upstream's names and paths (scripts read them by position)
@AdditionalPrinterColumn(name = "NODESTATUS", jsonPath = ".spec.nodestatus", type = Type.STRING)
@AdditionalPrinterColumn(
    name = "SYSCONFIG-VERSION-CURRENT",
    jsonPath = ".status.sysconfigs.version",
    type = Type.STRING)
@AdditionalPrinterColumn(
    name = "SYSCONFIG-VERSION-DESIRED",
    jsonPath = ".spec.sysconfigs.version",
    type = Type.STRING)
@AdditionalPrinterColumn(
    name = "UPGRADECONFIG-VERSION-CURRENT",
    jsonPath = ".status.upgradeconfigs.version",
    type = Type.STRING)
@AdditionalPrinterColumn(
    name = "UPGRADECONFIG-VERSION-DESIRED",
    jsonPath = ".spec.upgradeconfigs.version",
    type = Type.STRING)
@AdditionalPrinterColumn(name = "Phase", jsonPath = ".status.phase", type = Type.STRING)
@AdditionalPrinterColumn(name = "Target", jsonPath = ".status.target", type = Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = Type.DATE)
public class OSInstance extends CustomResource<OSInstanceSpec, OSInstanceStatus>
    implements Namespaced {
  /** Label that names the node an OSInstance belongs to (upstream's key). */
  public static final String NODE_LABEL = "upgrade.openeuler.org/osinstance-node";

  /**
   * The node this OSInstance belongs to: the value of {@link #NODE_LABEL}, else its name (upstream
   * names it after the node).
   */
  public String nodeName() {
    Map<String, String> labels = getMetadata().getLabels();
    String node = labels == null ? null : labels.get(NODE_LABEL);
    return node == null ? getMetadata().getName() : node;
  }

  @Override
  protected OSInstanceSpec initSpec() {
    return new OSInstanceSpec();
  }

  @Override
  protected OSInstanceStatus initStatus() {
    return new OSInstanceStatus();
  }
}
