package dev.kubeos.cluster.proxy.model;

import dev.kubeos.api.agent.AgentStatus;
import dev.kubeos.api.agent.Slot;
import dev.kubeos.api.agent.SlotState;
import dev.kubeos.api.agent.SlotStatus;

/**
 * Whether the agent's status confirms that the node runs {@code target} for good: the slot it
 * booted holds the target, is the committed default boot entry, and no trial is pending (the
 * agent's model: {@code kubeos-agent}'s {@code NodeView}). A kubelet reports the new {@code
 * osImage} as soon as the node is up, while the boot is still the uncommitted boot-once trial that
 * the node's health check ({@code kubeos-health.service}) commits or falls back from; only this
 * check tells the two apart.
 *
 * @param verdict what the status says
 * @param detail the status in words, for the OSInstance's message
 */
public record CommitCheck(Verdict verdict, String detail) {

  /** What the agent's status says about the target. */
  public enum Verdict {
    /** The booted slot holds the target, is the default boot entry, no trial pending. */
    COMMITTED,
    /**
     * The booted slot holds the target but is not committed: the running boot is the boot-once
     * trial (its health check has not decided yet), or the health check failed it and the node
     * falls back at its next boot.
     */
    NOT_COMMITTED,
    /**
     * The agent says the booted slot holds another version than the target: e.g. the trial failed
     * and the node is up again on the old slot, reported by its agent before its kubelet (the
     * detail then names the agent's last failure).
     */
    OTHER_VERSION
  }

  /** Checks {@code s} against {@code target}. */
  public static CommitCheck of(AgentStatus s, String target) {
    Slot booted = s.bootedSlot();
    SlotStatus slot = booted == null || s.slots() == null ? null : s.slots().get(booted);
    String version = slot == null ? null : slot.version();
    if (booted == null || !holds(version, target)) {
      return new CommitCheck(
          Verdict.OTHER_VERSION,
          "the agent reports that the booted slot "
              + (booted == null ? "(unknown)" : booted)
              + (version == null ? " holds no recorded version" : " holds '" + version + "'")
              + ", not '"
              + target
              + "'"
              + (s.lastFailure() == null || s.lastFailure().isBlank()
                  ? ""
                  : " (its last failure: " + s.lastFailure() + ")"));
    }
    String runs = "slot " + booted + " (" + version + ")";
    if (booted == s.defaultSlot()
        && s.trialSlot() == null
        && !s.trialBoot()
        && slot.state() == SlotState.VERIFIED) {
      return new CommitCheck(Verdict.COMMITTED, runs + " is committed: the default boot entry");
    }
    String detail;
    if (s.trialBoot()) {
      detail = runs + " runs as a boot-once trial, not yet committed";
    } else if (slot.state() == SlotState.FAILED_TRIAL) {
      detail =
          runs
              + " failed its trial"
              + (s.lastFailure() == null || s.lastFailure().isBlank()
                  ? ""
                  : " (" + s.lastFailure() + ")")
              + "; the node falls back to slot "
              + s.defaultSlot()
              + " at its next boot";
    } else if (s.trialSlot() != null && s.trialSlot() != booted) {
      detail = runs + " runs, but a trial of slot " + s.trialSlot() + " is armed for the next boot";
    } else {
      detail = runs + " runs, but the default boot entry is slot " + s.defaultSlot();
    }
    return new CommitCheck(Verdict.NOT_COMMITTED, detail);
  }

  /**
   * Whether a slot recorded as {@code version} holds {@code target}: the same string, or the {@code
   * PRETTY_NAME} the image builder writes for it ({@code KubeOS <version>}, the Node's {@code
   * osImage}): the agent records a staged slot under the OS resource's {@code osversion}, and the
   * image's own slot under the bare version its builder was given.
   */
  static boolean holds(String version, String target) {
    return version != null
        && target != null
        && (version.equals(target) || ("KubeOS " + version).equals(target));
  }
}
