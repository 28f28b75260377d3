package dev.kubeos.agent.settings;

import dev.kubeos.agent.settings.model.ModelSettings;
import dev.kubeos.agent.settings.model.PamLimitsText;
import dev.kubeos.agent.settings.model.SettingChange;
import dev.kubeos.agent.settings.model.SysctlText;
import java.nio.file.Path;

/**
 * A model that edits one text file change by change (configpath or the model's default file). A
 * file that does not exist and would stay empty is not created.
 */
final class LineFileModel implements SettingsModel {
  /** Checks one change (against the plan's policy, too) and applies it to the file's text. */
  @FunctionalInterface
  interface LineEdit {
    String apply(String model, String text, SettingChange change, SettingsPlan plan);
  }

  private final String name;
  private final String defaultFile;
  private final LineEdit edit;

  private LineFileModel(String name, String defaultFile, LineEdit edit) {
    this.name = name;
    this.defaultFile = defaultFile;
    this.edit = edit;
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
  public String name() {
    return name;
  }

  @Override
  public void plan(ModelSettings settings, SettingsPlan plan) {
    Path file = plan.file(name, settings.configPath(), defaultFile);
    String text = plan.read(Edit.Kind.FILE, file);
    String next = text == null ? "" : text;
    for (SettingChange c : settings.contents()) {
      next = edit.apply(name, next, c, plan);
    }
    plan.put(name, Edit.Kind.FILE, file, text == null && next.isEmpty() ? null : next);
  }
}
