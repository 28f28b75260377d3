package dev.kubeos.api.agent;

import java.time.Instant;

/**
 * What the agent recorded about one slot.
 *
 * @param version OS version written to the slot (null when empty)
 * @param sha256 hex digest of the payload written (null when not known, e.g. the factory image)
 * @param state whether the slot may be booted
 * @param updatedAt when this record last changed
 */
public record SlotStatus(String version, String sha256, SlotState state, Instant updatedAt) {

  public static SlotStatus empty() {
    return new SlotStatus(null, null, SlotState.EMPTY, null);
  }

  public boolean bootable() {
    return state == SlotState.VERIFIED;
  }
}
