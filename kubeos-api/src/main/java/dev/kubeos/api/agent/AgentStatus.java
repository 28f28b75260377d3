package dev.kubeos.api.agent;

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
 */
public record AgentStatus(
    Slot bootedSlot,
    Slot defaultSlot,
    Slot trialSlot,
    Slot nextBootSlot,
    boolean trialBoot,
    Map<Slot, SlotStatus> slots,
    String lastFailure) {}
