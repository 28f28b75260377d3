package dev.kubeos.agent.settings;

import java.util.List;

/**
 * What a configure (or revert) did, per model and target.
 *
 * @param version the settings version applied (or reverted)
 * @param dryRun nothing was written
 * @param outcomes one per model and target, in request order
 * @param warnings entries skipped instead of refused, as upstream skips them (empty key, no value,
 *     {@code kernel.sysctl} delete); the socket's {@code configure} answer carries them
 */
public record SettingsResult(
    String version, boolean dryRun, List<Outcome> outcomes, List<String> warnings) {
  public SettingsResult {
    outcomes = List.copyOf(outcomes);
    warnings = List.copyOf(warnings);
  }

  /**
   * @param model the model
   * @param target file path or "kernel command line of slot X"
   * @param diff unified diff of the change; empty for no change
   */
  public record Outcome(String model, String target, String diff) {
    public boolean changed() {
      return !diff.isEmpty();
    }
  }

  public boolean changed() {
    return outcomes.stream().anyMatch(Outcome::changed);
  }

  /**
   * One line per model and target: "changed" or "no change"; with diffs when asked; then one
   * "warning: ..." line per skipped entry.
   */
  public String describe(boolean diffs) {
    StringBuilder b = new StringBuilder();
    for (Outcome o : outcomes) {
      b.append(o.model())
          .append(' ')
          .append(o.target())
          .append(": ")
          .append(o.changed() ? (dryRun ? "would change" : "changed") : "no change")
          .append('\n');
      if (diffs && o.changed()) {
        b.append(o.diff());
      }
    }
    if (outcomes.isEmpty()) {
      b.append("no change\n");
    }
    for (String w : warnings) {
      b.append("warning: ").append(w).append('\n');
    }
    return b.toString();
  }
}
