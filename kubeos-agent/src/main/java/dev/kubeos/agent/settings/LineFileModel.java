package dev.kubeos.agent.settings;

import dev.kubeos.agent.settings.model.ModelSettings;
import dev.kubeos.agent.settings.model.PamLimitsText;
import dev.kubeos.agent.settings.model.SettingChange;
import dev.kubeos.agent.settings.model.SysctlText;

/**
 * A model that edits one text file change by change (configpath or the model's default file). A
 * file that does not exist and would stay empty is not created.
 *
 * @param name the model's name
 * @param defaultFile the file edited without configpath
 * @param edit checks and applies one change
 */
record LineFileModel(String name, String defaultFile, LineEdit edit) implements SettingsModel {
  /** Checks one change (against the plan's policy, too) and applies it to the file's text. */
  @FunctionalInterface
  interface LineEdit {
    String apply(String model, String text, SettingChange change, SettingsPlan plan);
  }

  /** {@code kernel.sysctl.persist}: key = value lines in /etc/sysctl.conf or configpath. */
  static LineFileModel sysctlPersist() {
    return new LineFileModel(
        SysctlText.MODEL,
        "/etc/sysctl.conf",
        (model, text, c, plan) -> {
          SysctlText.checkKey(model, c.key());
          plan.policy().checkSysctl(model, c.key(), c.text());
          return SysctlText.apply(text, c);
        });
  }

  /**
   * {@code pam.limits}: /etc/security/limits.conf (or configpath); key domain, value
   * type.item.value.
   */
  static LineFileModel pamLimits() {
    return new LineFileModel(
        PamLimitsText.MODEL,
        "/etc/security/limits.conf",
        (model, text, c, plan) -> PamLimitsText.apply(text, c));
  }

  @Override
  public void plan(ModelSettings settings, SettingsPlan plan) {
    plan.editFile(
        name,
        settings.configPath(),
        defaultFile,
        (file, text) -> {
          for (SettingChange c : settings.contents()) {
            text = edit.apply(name, text, c, plan);
          }
          return text;
        });
  }
}
