package dev.kubeos.agent.settings.model;

import java.util.ArrayList;
import java.util.List;

/**
 * The entries upstream's agent skips with a warning instead of failing, which we therefore skip too
 * (with a warning in the result) rather than refusing the request: an empty key (any model), no
 * value on an add/update (upstream's proxy sends null when the CR has none; not for the grub
 * models, where no value means a bare parameter) and {@code kernel.sysctl} with {@code operation:
 * delete}. Everything else that is invalid is still refused whole.
 */
public final class UpstreamLeniency {
  /** The models whose add/update needs a value. */
  private static final List<String> NEED_VALUE =
      List.of(
          "kernel.sysctl",
          "kernel.sysctl.persist",
          "kubernetes.kubelet",
          "container.containerd",
          PamLimitsText.MODEL);

  private UpstreamLeniency() {}

  /** What is left of one model's settings, and a warning per skipped entry. */
  public record Filtered(ModelSettings settings, List<String> warnings) {}

  public static Filtered filter(ModelSettings m) {
    List<SettingChange> kept = new ArrayList<>();
    List<String> warnings = new ArrayList<>();
    for (SettingChange c : m.contents()) {
      String skip = skipReason(m.model(), c);
      if (skip == null) {
        kept.add(c);
      } else {
        warnings.add(
            "settings model "
                + m.model()
                + (c.key() == null || c.key().isBlank() ? "" : ", key '" + c.key() + "'")
                + ": "
                + skip
                + ", entry skipped (as upstream does)");
      }
    }
    return new Filtered(new ModelSettings(m.model(), m.configPath(), kept), warnings);
  }

  private static String skipReason(String model, SettingChange c) {
    if (c.key() == null || c.key().isBlank()) {
      return "empty key";
    }
    boolean noValue = c.value() == null || c.value().isNull() || c.value().isMissingNode();
    if (c.operation() != ChangeOperation.DELETE && noValue && NEED_VALUE.contains(model)) {
      return "no value given for " + c.operation().name().toLowerCase(java.util.Locale.ROOT);
    }
    if (model.equals("kernel.sysctl") && c.operation() == ChangeOperation.DELETE) {
      return "operation delete is not possible for a running kernel value";
    }
    return null;
  }
}
