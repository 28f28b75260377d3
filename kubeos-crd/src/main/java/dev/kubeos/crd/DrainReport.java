package dev.kubeos.crd;

/**
 * {@code OSInstance.status.drain}: the operator's answer to a proxy that entered {@code Draining}
 * (an addition to upstream's schema, optional, so upstream objects stay valid). The proxy cordons
 * its node and records {@code Draining}; the operator evicts the node's pods through the Eviction
 * API and writes this report; the proxy reboots only on {@link #DRAINED} for the very phase it
 * recorded ({@link #getPhasetime()} equal to {@code status.phasetime}), so a report from an earlier
 * attempt never counts.
 */
public class DrainReport {
  /** Every pod the drain evicts is gone: the node may reboot. */
  public static final String DRAINED = "Drained";

  /** The drain refused to start (pods that need evictpodforce) or did not finish in time. */
  public static final String FAILED = "Failed";

  private String phasetime;
  private String result;
  private String message;

  public DrainReport() {}

  public DrainReport(String phasetime, String result, String message) {
    this.phasetime = phasetime;
    this.result = result;
    this.message = message;
  }

  /** The {@code status.phasetime} of the {@code Draining} phase this report answers. */
  public String getPhasetime() {
    return phasetime;
  }

  public void setPhasetime(String phasetime) {
    this.phasetime = phasetime;
  }

  /** {@link #DRAINED} or {@link #FAILED}. */
  public String getResult() {
    return result;
  }

  public void setResult(String result) {
    this.result = result;
  }

  /** What the drain did: pods evicted, or the pods that blocked it and why. */
  public String getMessage() {
    return message;
  }

  public void setMessage(String message) {
    this.message = message;
  }
}
