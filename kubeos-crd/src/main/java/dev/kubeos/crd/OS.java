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

/**
 * The rollout of one OS version (or configuration) to the nodes it selects: {@code
 * upgrade.openeuler.org/v1alpha1}, kind {@code OS}, namespaced, as upstream KubeOS.
 */
@Group(OS.GROUP)
@Version(OS.VERSION)
@Kind("OS")
@Plural("os")
@Singular("os")
// upstream's columns first, with upstream's names and paths (scripts read them by position)
@AdditionalPrinterColumn(name = "OS VERSION", jsonPath = ".spec.osversion", type = Type.STRING)
@AdditionalPrinterColumn(
    name = "SYSCONFIG VERSION",
    jsonPath = ".spec.sysconfigs.version",
    type = Type.STRING)
@AdditionalPrinterColumn(
    name = "UPGRADECONFIG VERSION",
    jsonPath = ".spec.upgradeconfigs.version",
    type = Type.STRING)
@AdditionalPrinterColumn(name = "Ops", jsonPath = ".spec.opstype", type = Type.STRING)
@AdditionalPrinterColumn(name = "Selected", jsonPath = ".status.selected", type = Type.INTEGER)
@AdditionalPrinterColumn(name = "At-Target", jsonPath = ".status.atTarget", type = Type.INTEGER)
@AdditionalPrinterColumn(name = "In-Progress", jsonPath = ".status.inProgress", type = Type.INTEGER)
@AdditionalPrinterColumn(name = "Failed", jsonPath = ".status.failed", type = Type.INTEGER)
@AdditionalPrinterColumn(
    name = "State",
    jsonPath = ".status.conditions[?(@.status==\"True\")].type",
    type = Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = Type.DATE)
public class OS extends CustomResource<OSSpec, OSStatus> implements Namespaced {
  public static final String GROUP = "upgrade.openeuler.org";
  public static final String VERSION = "v1alpha1";

  /** {@code namespace/name}, the namespace defaulted ({@link Namespaces#orDefault}). */
  public String key() {
    return Namespaces.orDefault(getMetadata().getNamespace()) + "/" + getMetadata().getName();
  }

  /**
   * The namespace of the OSInstances this OS drives: {@code spec.osinstancenamespace}, else {@link
   * Namespaces#DEFAULT} (as upstream).
   */
  public String instanceNamespace() {
    return Namespaces.orDefault(getSpec() == null ? null : getSpec().getOsinstancenamespace());
  }

  @Override
  protected OSSpec initSpec() {
    return new OSSpec();
  }

  @Override
  protected OSStatus initStatus() {
    return new OSStatus();
  }
}
