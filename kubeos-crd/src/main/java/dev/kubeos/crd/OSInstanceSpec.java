package dev.kubeos.crd;

/**
 * What the operator asks of one node (upstream fields): its {@code nodestatus} ({@code idle},
 * {@code upgrade}, {@code config} or {@code rollback}), the OS it works for, and the configurations
 * to apply.
 */
public class OSInstanceSpec {
  public static final String IDLE = "idle";

  /** Whether {@code nodestatus} assigns nothing: {@link #IDLE}, empty or absent. */
  public static boolean idle(String nodestatus) {
    return nodestatus == null || nodestatus.isBlank() || IDLE.equals(nodestatus);
  }

  /** Whether this spec assigns nothing ({@link #idle(String)} of {@code nodestatus}). */
  public boolean idle() {
    return idle(nodestatus);
  }

  /**
   * The part of the spec the operator writes to start a node (its merge patch: null fields are left
   * out and keep their value on the server).
   *
   * @param nodestatus the operation ({@code upgrade}, {@code config}, {@code rollback})
   * @param os the OS resource the node works for
   * @param sysconfigs the OS's {@code sysconfigs}, or null to leave them
   * @param upgradeconfigs the OS's {@code upgradeconfigs}, or null to leave them
   */
  public static OSInstanceSpec assignment(
      String nodestatus, NamespacedName os, SysConfigs sysconfigs, SysConfigs upgradeconfigs) {
    OSInstanceSpec spec = new OSInstanceSpec();
    spec.setNodestatus(nodestatus);
    spec.setNamespacedname(os);
    spec.setSysconfigs(sysconfigs);
    spec.setUpgradeconfigs(upgradeconfigs);
    return spec;
  }

  private String nodestatus;
  private NamespacedName namespacedname = new NamespacedName();
  private SysConfigs sysconfigs = new SysConfigs();
  private SysConfigs upgradeconfigs = new SysConfigs();

  /** {@code idle}, or the operation the node has been assigned. */
  public String getNodestatus() {
    return nodestatus;
  }

  public void setNodestatus(String nodestatus) {
    this.nodestatus = nodestatus;
  }

  public NamespacedName getNamespacedname() {
    return namespacedname;
  }

  public void setNamespacedname(NamespacedName namespacedname) {
    this.namespacedname = namespacedname;
  }

  public SysConfigs getSysconfigs() {
    return sysconfigs;
  }

  public void setSysconfigs(SysConfigs sysconfigs) {
    this.sysconfigs = sysconfigs;
  }

  public SysConfigs getUpgradeconfigs() {
    return upgradeconfigs;
  }

  public void setUpgradeconfigs(SysConfigs upgradeconfigs) {
    this.upgradeconfigs = upgradeconfigs;
  }
}
