package dev.kubeos.agent.model;

import dev.kubeos.api.agent.Slot;
import dev.kubeos.api.agent.SlotState;
import dev.kubeos.api.agent.SlotStatus;
import java.time.Instant;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * The agent's durable record of what each slot holds. Boot decisions (default, trial) live in the
 * bootloader environment, not here: this record only says which slot contents may be booted.
 *
 * @param slots per slot, version/digest/state
 * @param lastFailure human-readable description of the last failed trial (null when none)
 */
public record AgentState(Map<Slot, SlotStatus> slots, String lastFailure) {

  public AgentState {
    EnumMap<Slot, SlotStatus> copy = new EnumMap<>(Slot.class);
    for (Slot s : Slot.values()) {
      copy.put(s, slots == null ? SlotStatus.empty() : slots.getOrDefault(s, SlotStatus.empty()));
    }
    slots = Collections.unmodifiableMap(copy); // EnumMap: A before B, in JSON too
  }

  public static AgentState empty() {
    return new AgentState(Map.of(), null);
  }

  public SlotStatus slot(Slot slot) {
    return slots.get(slot);
  }

  public AgentState withSlot(Slot slot, SlotStatus status) {
    EnumMap<Slot, SlotStatus> copy = new EnumMap<>(slots);
    copy.put(slot, status);
    return new AgentState(copy, lastFailure);
  }

  public AgentState withSlotState(Slot slot, SlotState state, Instant now) {
    SlotStatus s = slot(slot);
    return withSlot(slot, new SlotStatus(s.version(), s.sha256(), state, now));
  }

  public AgentState withLastFailure(String failure) {
    return new AgentState(slots, failure);
  }
}
