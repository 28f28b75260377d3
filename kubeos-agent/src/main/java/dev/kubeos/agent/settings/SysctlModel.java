package dev.kubeos.agent.settings;

import dev.kubeos.agent.settings.model.ChangeOperation;
import dev.kubeos.agent.settings.model.Invalid;
import dev.kubeos.agent.settings.model.ModelSettings;
import dev.kubeos.agent.settings.model.SettingChange;
import dev.kubeos.agent.settings.model.SysctlText;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code kernel.sysctl}: writes {@code /proc/sys/<key with . as />} now (not persisted). The key
 * must exist under /proc/sys; delete is refused (a running kernel value cannot be removed).
 */
final class SysctlModel implements SettingsModel {
  static final String NAME = "kernel.sysctl";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void plan(ModelSettings settings, SettingsPlan plan) {
    Path procSys = plan.root().resolve("proc/sys");
    for (SettingChange c : settings.contents()) {
      SysctlText.checkKey(NAME, c.key());
      SysctlText.checkValue(NAME, c);
      if (c.operation() == ChangeOperation.DELETE) {
        throw Invalid.of(
            NAME,
            c.key(),
            "delete is not possible for a running kernel value; set the value you want instead");
      }
      plan.policy().checkSysctl(NAME, c.key(), c.text());
      if (c.text().isBlank()) {
        throw Invalid.of(NAME, c.key(), "empty value");
      }
      Path file = procSys.resolve(c.key().replace('.', '/')).normalize();
      if (!file.startsWith(procSys) || !Files.isRegularFile(file)) {
        throw Invalid.of(NAME, c.key(), "no such kernel parameter: " + file + " does not exist");
      }
      String now = plan.read(Edit.Kind.PROC, file);
      boolean same = SysctlText.normalize(now).equals(SysctlText.normalize(c.text()));
      plan.put(NAME, Edit.Kind.PROC, file, same ? now : c.text().strip() + "\n");
    }
  }
}
