package dev.kubeos.agent.settings;

import dev.kubeos.agent.settings.model.ModelSettings;
import dev.kubeos.agent.settings.model.PamLimitsText;
import dev.kubeos.agent.settings.model.SettingChange;
import java.nio.file.Path;

/**
 * {@code pam.limits}: /etc/security/limits.conf (or configpath); key domain, value type.item.value.
 */
final class PamLimitsModel implements SettingsModel {
  @Override
  public String name() {
    return PamLimitsText.MODEL;
  }

  @Override
  public void plan(ModelSettings settings, Plan plan) {
    Path file = plan.file(name(), settings.configPath(), "/etc/security/limits.conf");
    String text = plan.read(Edit.Kind.FILE, file);
    String next = text == null ? "" : text;
    for (SettingChange c : settings.contents()) {
      next = PamLimitsText.apply(next, c);
    }
    plan.put(name(), Edit.Kind.FILE, file, text == null && next.isEmpty() ? null : next);
  }
}
