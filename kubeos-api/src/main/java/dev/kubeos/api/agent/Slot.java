package dev.kubeos.api.agent;

import java.util.Locale;

/**
 * One of the two root file-system slots of the boot contract, found on disk by GPT partition name.
 */
public enum Slot {
  A,
  B;

  /**
   * The GPT partition name that holds this slot (the boot contract: {@code ROOT-A}, {@code
   * ROOT-B}).
   */
  public String partitionName() {
    return "ROOT-" + name();
  }

  public Slot other() {
    return this == A ? B : A;
  }

  /** Parses {@code A}/{@code B} in any case; throws with an actionable message otherwise. */
  public static Slot parse(String text) {
    if (text != null) {
      switch (text.trim().toUpperCase(Locale.ROOT)) {
        case "A":
          return A;
        case "B":
          return B;
        default:
          break;
      }
    }
    throw new IllegalArgumentException("not a slot: '" + text + "' (expected A or B)");
  }
}
