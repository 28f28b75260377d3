package dev.kubeos.api.agent;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Map;

/**
 * Answer of {@code status}: where the node runs now, where it will boot next and what each slot
 * holds.
 *
 * @param bootedSlot slot the running system was booted from
 * @param defaultSlot committed default slot of the bootloader
 * @param trialSlot armed boot-once trial slot, null when none is pending
 * @param nextBootSlot slot the bootloader will start at the next boot (the grub.cfg selection)
 * @param trialBoot true when the running boot is an uncommitted trial
 * @param slots per slot, what the agent recorded
 * @param lastFailure the last failed trial, reported until the next successful commit (may be null)
 * @param etcMerge the last /etc merge (our addition; left out of the JSON when there was none, and
 *     clients that do not know it ignore it)
 */
public record AgentStatus(
    Slot bootedSlot,
    Slot defaultSlot,
    Slot trialSlot,
    Slot nextBootSlot,
    boolean trialBoot,
    Map<Slot, SlotStatus> slots,
    String lastFailure,
    @JsonInclude(JsonInclude.Include.NON_NULL) EtcMergeStatus etcMerge) {

  @JsonCreator
  public AgentStatus {}

  /** A status without /etc merge report. */
  public AgentStatus(
      Slot bootedSlot,
      Slot defaultSlot,
      Slot trialSlot,
      Slot nextBootSlot,
      boolean trialBoot,
      Map<Slot, SlotStatus> slots,
      String lastFailure) {
    this(bootedSlot, defaultSlot, trialSlot, nextBootSlot, trialBoot, slots, lastFailure, null);
  }

  /** This status with the last /etc merge report. */
  public AgentStatus withEtcMerge(EtcMergeStatus merge) {
    return new AgentStatus(
        bootedSlot, defaultSlot, trialSlot, nextBootSlot, trialBoot, slots, lastFailure, merge);
  }
}
