package dev.kubeos.agent.settings;

import dev.kubeos.api.agent.Slot;
import java.nio.file.Path;
import java.util.Objects;

/**
 * One target a request changes, with its content before and after.
 *
 * @param model the model that changes it (for messages and output)
 * @param kind a file (written atomically), a /proc/sys value (written in place) or a slot's kernel
 *     command line in the boot env
 * @param path the file (FILE, PROC), already resolved and checked; null for CMDLINE
 * @param slot the slot (CMDLINE); null otherwise
 * @param before content before; null when the file did not exist
 * @param after content after; null to delete the file (only when reverting its creation)
 */
public record Edit(String model, Kind kind, Path path, Slot slot, String before, String after) {
  /** What an edit writes. */
  public enum Kind {
    FILE,
    PROC,
    CMDLINE
  }

  public boolean changes() {
    return !Objects.equals(before, after);
  }

  /** The target as shown to people: a path, or the slot's kernel command line. */
  public String target() {
    return kind == Kind.CMDLINE ? "kernel command line of slot " + slot : path.toString();
  }

  Edit withAfter(String next) {
    return new Edit(model, kind, path, slot, before, next);
  }
}
