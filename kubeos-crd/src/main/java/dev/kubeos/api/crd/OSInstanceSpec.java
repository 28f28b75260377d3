package dev.kubeos.api.crd;

/**
 * What the operator asks of one node (upstream fields): its {@code nodestatus} ({@code idle},
 * {@code upgrade}, {@code config} or {@code rollback}), the OS it works for, and the configurations
 * to apply.
 */
public class OSInstanceSpec {
  public static final String IDLE = "idle";

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
