package dev.kubeos.agent.settings;

import dev.kubeos.agent.settings.model.PamLimitsText;
import dev.kubeos.agent.settings.model.SettingChange;

/**
 * {@code pam.limits}: /etc/security/limits.conf (or configpath); key domain, value type.item.value.
 */
final class PamLimitsModel extends LineFileModel {
  PamLimitsModel() {
    super("/etc/security/limits.conf");
  }

  @Override
  public String name() {
    return PamLimitsText.MODEL;
  }

  @Override
  String apply(String text, SettingChange change, SettingsPlan plan) {
    return PamLimitsText.apply(text, change);
  }
}
