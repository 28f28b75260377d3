package dev.kubeos.api.agent;

/** What the agent knows about the content of one slot. */
public enum SlotState {
  /** Nothing usable was ever written (or the content is unknown). */
  EMPTY,
  /** A write started and did not finish verification: never bootable. */
  STAGING,
  /** Content written, digest checked while streaming and read back from the device. */
  VERIFIED,
  /** Verified content that was tried as a boot-once trial and did not commit. */
  FAILED_TRIAL
}
