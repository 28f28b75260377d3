package dev.kubeos.agent.model;

import dev.kubeos.api.agent.Slot;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * The agent-owned part of the bootloader environment (what one valid redundant copy holds).
 *
 * @param seq sequence number of the copy; the valid copy with the higher seq wins
 * @param defaultSlot committed slot, booted when no trial is pending
 * @param trialSlot slot armed for a boot-once trial, or null
 * @param trialId identifies the armed trial; GRUB records the id it consumed in the boot record
 * @param cmdline extra kernel command line per slot ("" when none)
 */
public record BootState(
    long seq, Slot defaultSlot, Slot trialSlot, long trialId, Map<Slot, String> cmdline) {

  public BootState {
    if (defaultSlot == null) {
      throw new IllegalArgumentException("defaultSlot is required");
    }
    EnumMap<Slot, String> copy = new EnumMap<>(Slot.class);
    for (Slot s : Slot.values()) {
      copy.put(s, cmdline == null ? "" : cmdline.getOrDefault(s, ""));
    }
    cmdline = Collections.unmodifiableMap(copy);
  }

  public static BootState initial(Slot defaultSlot) {
    return new BootState(0, defaultSlot, null, 0, Map.of());
  }

  public BootState withDefault(Slot slot) {
    return new BootState(seq, slot, trialSlot, trialId, cmdline);
  }

  /** Arms a trial; the id must differ from any id GRUB may already have consumed. */
  public BootState withTrial(Slot slot, long id) {
    return new BootState(seq, defaultSlot, slot, id, cmdline);
  }

  public BootState withoutTrial() {
    return new BootState(seq, defaultSlot, null, trialId, cmdline);
  }
}
