package dev.kubeos.agent.settings;

import dev.kubeos.agent.settings.model.ModelSettings;
import dev.kubeos.agent.settings.model.SettingChange;
import dev.kubeos.agent.settings.model.SysctlText;
import java.nio.file.Path;

/** {@code kernel.sysctl.persist}: key = value lines in /etc/sysctl.conf or configpath. */
final class SysctlPersistModel implements SettingsModel {
  @Override
  public String name() {
    return SysctlText.MODEL;
  }

  @Override
  public void plan(ModelSettings settings, Plan plan) {
    Path file = plan.file(name(), settings.configPath(), "/etc/sysctl.conf");
    String text = plan.read(Edit.Kind.FILE, file);
    String next = text == null ? "" : text;
    for (SettingChange c : settings.contents()) {
      SysctlText.checkKey(name(), c.key());
      plan.policy().checkSysctl(name(), c.key(), c.text());
      next = SysctlText.apply(next, c);
    }
    plan.put(name(), Edit.Kind.FILE, file, text == null && next.isEmpty() ? null : next);
  }
}
