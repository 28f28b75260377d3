package dev.kubeos.agent.model;

import dev.kubeos.api.agent.Slot;

/**
 * What the bootloader does at the next boot: the slot it starts, and whether that boot consumes the
 * pending boot-once trial (then GRUB writes {@code consumedTrialId} to its boot record before
 * starting the kernel).
 */
public record BootDecision(Slot slot, boolean trial, long consumedTrialId) {}
