package dev.kubeos.agent.model;

import dev.kubeos.api.agent.AgentStatus;
import dev.kubeos.api.agent.Slot;
import dev.kubeos.api.agent.SlotState;
import java.util.Optional;

/**
 * Everything the agent derives from the booted slot, the bootloader env, GRUB's boot record and its
 * own slot records. Pure: the rules of the A/B state machine live here, the I/O elsewhere.
 *
 * @param booted slot the running system was started from
 * @param boot newest valid agent copy of the bootloader env
 * @param triedTrialId trial id GRUB recorded as consumed (0 when none)
 * @param state the agent's slot records
 */
public record NodeView(Slot booted, BootState boot, long triedTrialId, AgentState state) {

  /** The slot that stage writes into: never the booted one. */
  public Slot inactive() {
    return booted.other();
  }

  /** A trial is armed and GRUB has not started it yet. */
  public Optional<Slot> pendingTrial() {
    return boot.trialSlot() != null && boot.trialId() != triedTrialId
        ? Optional.of(boot.trialSlot())
        : Optional.empty();
  }

  /** The running boot is the consumed, uncommitted trial. */
  public boolean trialBoot() {
    return boot.trialSlot() == booted && boot.trialId() == triedTrialId;
  }

  /**
   * GRUB consumed a trial but the node runs another slot: the trial never came up or its health
   * check failed and the node fell back.
   */
  public Optional<Slot> failedTrial() {
    return boot.trialSlot() != null && boot.trialId() == triedTrialId && boot.trialSlot() != booted
        ? Optional.of(boot.trialSlot())
        : Optional.empty();
  }

  /** The state with a detected failed trial recorded (unchanged when there is none). */
  public AgentState stateWithFailureRecorded(java.time.Instant now) {
    Optional<Slot> failed = failedTrial();
    if (failed.isEmpty() || state.slot(failed.get()).state() == SlotState.FAILED_TRIAL) {
      return state;
    }
    Slot slot = failed.get();
    String version = state.slot(slot).version();
    return state
        .withSlotState(slot, SlotState.FAILED_TRIAL, now)
        .withLastFailure(
            "trial boot of slot "
                + slot
                + (version == null ? "" : " (version " + version + ")")
                + " did not commit; the node fell back to slot "
                + booted
                + " at "
                + now);
  }

  /** The status answer, with {@code nextBootSlot} from the bootloader's own selection. */
  public AgentStatus toStatus(Slot nextBootSlot, java.time.Instant now) {
    AgentState recorded = stateWithFailureRecorded(now);
    Slot trial = failedTrial().isPresent() ? null : boot.trialSlot();
    return new AgentStatus(
        booted,
        boot.defaultSlot(),
        trial,
        nextBootSlot,
        trialBoot(),
        recorded.slots(),
        recorded.lastFailure());
  }
}
