package dev.kubeos.crd;

import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * Desired state of an {@link OS}: every field of upstream KubeOS under its upstream name, plus the
 * optional additions marked as such (see docs/operator.md).
 */
public class OSSpec {
  /** Target OS version; a node is upgraded when its {@code status.nodeInfo.osImage} differs. */
  @Required private String osversion;

  /**
   * Where the image comes from: {@code docker}, {@code disk} or {@code containerd} (empty for
   * config-only resources).
   */
  @Pattern("^$|^(docker|disk|containerd)$")
  private String imagetype;

  /** URL of the disk image ({@code imagetype: disk}). */
  private String imageurl;

  /** Container image holding the root file system ({@code docker}/{@code containerd}). */
  private String containerimage;

  /** SHA-256 of the image, hex. */
  private String checksum;

  /**
   * Most selected nodes that may be unavailable at once, counting nodes unavailable for other
   * reasons.
   */
  @Required
  @Min(0)
  private int maxunavailable;

  /** {@code upgrade}, {@code config} or {@code rollback}. */
  @Required private OpsType opstype;

  /** Set to confirm that a plain-http {@code imageurl} is acceptable (upstream's safety flag). */
  private boolean flagSafe;

  /**
   * Download the image over mutual TLS with {@code cacert}/{@code clientcert}/{@code clientkey}.
   */
  private boolean mtls;

  /** CA certificate file name for https/mTLS downloads. */
  private String cacert;

  /** Client certificate file name for mTLS downloads. */
  private String clientcert;

  /** Client key file name for mTLS downloads. */
  private String clientkey;

  /** Also evict pods that a plain drain refuses (unreplicated pods, emptyDir), as upstream. */
  private boolean evictpodforce;

  /** Configurations applied after boot ({@code upgrade}) or alone ({@code config}). */
  private SysConfigs sysconfigs = new SysConfigs();

  /** Configurations applied before the reboot into the new version. */
  private SysConfigs upgradeconfigs = new SysConfigs();

  /**
   * Which nodes: {@code no-label} (default: nodes without the label {@code
   * upgrade.openeuler.org/node-selector}), {@code all-label} (all nodes) or a value of that label.
   */
  @Default("no-label")
  private String nodeselector;

  /** When new nodes may be started; see {@link TimeWindow}. */
  @ValidationRule(
      value =
          "(has(self.starttime) && self.starttime != '') == (has(self.endtime) && self.endtime != '')",
      message = "timewindow needs both starttime and endtime, or neither")
  private TimeWindow timewindow = new TimeWindow();

  /** Seconds to wait between starting one batch of nodes and the next (default 15). */
  @Default("15")
  @Min(0)
  private Integer timeinterval;

  /** {@code parallel} (default) or {@code serial} (one node at a time). */
  @Default("parallel")
  private ExecutionMode executionmode;

  /** Addition: start no new node while true; nodes already in progress finish. */
  private boolean pause;

  /** Addition: upgrade this many nodes first, then wait for {@code canarysoak} before the rest. */
  @Min(0)
  private Integer canarycount;

  /** Addition: seconds the canary nodes must stay healthy after finishing before the rest start. */
  @Min(0)
  private Integer canarysoak;

  /**
   * Addition: halt the rollout once this many selected nodes failed (unset: never halt, as
   * upstream).
   */
  @Min(1)
  private Integer failurebudget;

  /**
   * Addition: seconds a drain may take before the node is uncordoned and marked failed (default
   * 600).
   */
  @Min(1)
  private Integer draintimeout;

  /**
   * Addition: include control-plane nodes (upstream never touches them); they go strictly one at a
   * time, last, and never while another control-plane node is unavailable.
   */
  private boolean controlplane;

  /** Addition: namespace of the OSInstance resources (upstream: {@code default}). */
  private String osinstancenamespace;

  /** Addition: IANA zone in which {@code timewindow} is read (default UTC). */
  private String timezone;

  public String getOsversion() {
    return osversion;
  }

  public void setOsversion(String osversion) {
    this.osversion = osversion;
  }

  public String getImagetype() {
    return imagetype;
  }

  public void setImagetype(String imagetype) {
    this.imagetype = imagetype;
  }

  public String getImageurl() {
    return imageurl;
  }

  public void setImageurl(String imageurl) {
    this.imageurl = imageurl;
  }

  public String getContainerimage() {
    return containerimage;
  }

  public void setContainerimage(String containerimage) {
    this.containerimage = containerimage;
  }

  public String getChecksum() {
    return checksum;
  }

  public void setChecksum(String checksum) {
    this.checksum = checksum;
  }

  public int getMaxunavailable() {
    return maxunavailable;
  }

  public void setMaxunavailable(int maxunavailable) {
    this.maxunavailable = maxunavailable;
  }

  public OpsType getOpstype() {
    return opstype;
  }

  public void setOpstype(OpsType opstype) {
    this.opstype = opstype;
  }

  public boolean isFlagSafe() {
    return flagSafe;
  }

  public void setFlagSafe(boolean flagSafe) {
    this.flagSafe = flagSafe;
  }

  public boolean isMtls() {
    return mtls;
  }

  public void setMtls(boolean mtls) {
    this.mtls = mtls;
  }

  public String getCacert() {
    return cacert;
  }

  public void setCacert(String cacert) {
    this.cacert = cacert;
  }

  public String getClientcert() {
    return clientcert;
  }

  public void setClientcert(String clientcert) {
    this.clientcert = clientcert;
  }

  public String getClientkey() {
    return clientkey;
  }

  public void setClientkey(String clientkey) {
    this.clientkey = clientkey;
  }

  public boolean isEvictpodforce() {
    return evictpodforce;
  }

  public void setEvictpodforce(boolean evictpodforce) {
    this.evictpodforce = evictpodforce;
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

  public String getNodeselector() {
    return nodeselector;
  }

  public void setNodeselector(String nodeselector) {
    this.nodeselector = nodeselector;
  }

  public TimeWindow getTimewindow() {
    return timewindow;
  }

  public void setTimewindow(TimeWindow timewindow) {
    this.timewindow = timewindow;
  }

  public Integer getTimeinterval() {
    return timeinterval;
  }

  public void setTimeinterval(Integer timeinterval) {
    this.timeinterval = timeinterval;
  }

  public ExecutionMode getExecutionmode() {
    return executionmode;
  }

  public void setExecutionmode(ExecutionMode executionmode) {
    this.executionmode = executionmode;
  }

  public boolean isPause() {
    return pause;
  }

  public void setPause(boolean pause) {
    this.pause = pause;
  }

  public Integer getCanarycount() {
    return canarycount;
  }

  public void setCanarycount(Integer canarycount) {
    this.canarycount = canarycount;
  }

  public Integer getCanarysoak() {
    return canarysoak;
  }

  public void setCanarysoak(Integer canarysoak) {
    this.canarysoak = canarysoak;
  }

  public Integer getFailurebudget() {
    return failurebudget;
  }

  public void setFailurebudget(Integer failurebudget) {
    this.failurebudget = failurebudget;
  }

  public Integer getDraintimeout() {
    return draintimeout;
  }

  public void setDraintimeout(Integer draintimeout) {
    this.draintimeout = draintimeout;
  }

  public boolean isControlplane() {
    return controlplane;
  }

  public void setControlplane(boolean controlplane) {
    this.controlplane = controlplane;
  }

  public String getOsinstancenamespace() {
    return osinstancenamespace;
  }

  public void setOsinstancenamespace(String osinstancenamespace) {
    this.osinstancenamespace = osinstancenamespace;
  }

  public String getTimezone() {
    return timezone;
  }

  public void setTimezone(String timezone) {
    this.timezone = timezone;
  }
}
