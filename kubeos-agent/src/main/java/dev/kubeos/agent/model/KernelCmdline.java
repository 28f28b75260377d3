package dev.kubeos.agent.model;

import dev.kubeos.api.agent.Slot;
import java.util.Optional;
import java.util.UUID;

/**
 * Reads what the boot contract puts on the kernel command line (pure: takes /proc/cmdline text).
 */
public final class KernelCmdline {
  /** Parameter that names the booted slot, written by grub.cfg. */
  public static final String SLOT_PARAM = "kubeos.slot";

  private KernelCmdline() {}

  /** The value of the last {@code name=value} parameter, as the kernel takes the last one. */
  public static Optional<String> value(String cmdline, String name) {
    String found = null;
    for (String token : cmdline.trim().split("\\s+")) {
      int eq = token.indexOf('=');
      if (eq > 0 && token.substring(0, eq).equals(name)) {
        found = token.substring(eq + 1);
      }
    }
    return Optional.ofNullable(found);
  }

  /** The slot named by {@code kubeos.slot=}; empty when absent, an error when not A or B. */
  public static Optional<Slot> bootedSlot(String cmdline) {
    return value(cmdline, SLOT_PARAM).map(Slot::parse);
  }

  /** The root partition's GPT unique GUID when root is given as {@code root=PARTUUID=...}. */
  public static Optional<UUID> rootPartUuid(String cmdline) {
    return value(cmdline, "root")
        .filter(v -> v.regionMatches(true, 0, "PARTUUID=", 0, 9))
        .map(v -> v.substring(9))
        .flatMap(
            v -> {
              try {
                return Optional.of(UUID.fromString(v));
              } catch (IllegalArgumentException e) {
                return Optional.empty();
              }
            });
  }
}
