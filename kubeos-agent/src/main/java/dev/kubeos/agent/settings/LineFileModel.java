package dev.kubeos.agent.settings;

import dev.kubeos.agent.settings.model.ModelSettings;
import dev.kubeos.agent.settings.model.SettingChange;
import java.nio.file.Path;

/**
 * A model that edits one text file change by change (configpath or the model's default file). A
 * file that does not exist and would stay empty is not created.
 */
abstract class LineFileModel implements SettingsModel {
  private final String defaultFile;

  LineFileModel(String defaultFile) {
    this.defaultFile = defaultFile;
  }

  /** Checks {@code change} (against {@code plan}'s policy, too) and applies it to {@code text}. */
  abstract String apply(String text, SettingChange change, SettingsPlan plan);

  @Override
  public final void plan(ModelSettings settings, SettingsPlan plan) {
    Path file = plan.file(name(), settings.configPath(), defaultFile);
    String text = plan.read(Edit.Kind.FILE, file);
    String next = text == null ? "" : text;
    for (SettingChange c : settings.contents()) {
      next = apply(next, c, plan);
    }
    plan.put(name(), Edit.Kind.FILE, file, text == null && next.isEmpty() ? null : next);
  }
}
