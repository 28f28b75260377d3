package dev.kubeos.crd;

/**
 * What the node's proxy reports: the configurations in force (upstream fields {@code sysconfigs},
 * {@code upgradeconfigs}) and, as additions, the step of its state machine ({@code phase}), a
 * readable {@code message}, the {@code target} (version or config version) the phase refers to, and
 * when the attempt started and ended and when the current phase began (RFC 3339); {@code drain} is
 * the operator's part: its answer to the proxy's {@code Draining} ({@link DrainReport}).
 */
public class OSInstanceStatus {
  /** Phase of a node whose attempt at {@link #getTarget()} failed. */
  public static final String FAILED = "Failed";

  /** Phase of a node that reached {@link #getTarget()}. */
  public static final String DONE = "Done";

  private SysConfigs sysconfigs = new SysConfigs();
  private SysConfigs upgradeconfigs = new SysConfigs();
  private String phase;
  private String message;
  private String target;
  private String starttime;
  private String endtime;
  private String phasetime;
  private String bootid;
  private DrainReport drain;

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

  /** Step of the proxy's state machine, e.g. {@code Draining}, {@code Done}, {@code Failed}. */
  public String getPhase() {
    return phase;
  }

  public void setPhase(String phase) {
    this.phase = phase;
  }

  public String getMessage() {
    return message;
  }

  public void setMessage(String message) {
    this.message = message;
  }

  /** The OS version (upgrade, rollback) or sysconfigs version (config) being worked towards. */
  public String getTarget() {
    return target;
  }

  public void setTarget(String target) {
    this.target = target;
  }

  public String getStarttime() {
    return starttime;
  }

  public void setStarttime(String starttime) {
    this.starttime = starttime;
  }

  public String getEndtime() {
    return endtime;
  }

  public void setEndtime(String endtime) {
    this.endtime = endtime;
  }

  /**
   * When the proxy entered {@link #getPhase()} (RFC 3339): the drain timeout and the reboot timeout
   * count from it, also across proxy restarts.
   */
  public String getPhasetime() {
    return phasetime;
  }

  public void setPhasetime(String phasetime) {
    this.phasetime = phasetime;
  }

  /**
   * The node's {@code status.nodeInfo.bootID} when the proxy asked the agent to reboot it: a
   * different bootID afterwards proves the reboot happened, so a node back at the old version fell
   * back from its trial boot, while the same bootID means the reboot has not happened yet.
   */
  public String getBootid() {
    return bootid;
  }

  public void setBootid(String bootid) {
    this.bootid = bootid;
  }

  /**
   * The operator's report on the drain of the node (null until it drained or gave up): written by
   * the operator through the status subresource, read by the proxy. The proxy's status updates
   * carry it unchanged; it clears it only when it starts a new attempt.
   */
  public DrainReport getDrain() {
    return drain;
  }

  public void setDrain(DrainReport drain) {
    this.drain = drain;
  }
}
