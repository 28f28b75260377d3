package dev.kubeos.agent.settings;

import dev.kubeos.agent.settings.model.SettingChange;
import dev.kubeos.agent.settings.model.SysctlText;

/** {@code kernel.sysctl.persist}: key = value lines in /etc/sysctl.conf or configpath. */
final class SysctlPersistModel extends LineFileModel {
  SysctlPersistModel() {
    super("/etc/sysctl.conf");
  }

  @Override
  public String name() {
    return SysctlText.MODEL;
  }

  @Override
  String apply(String text, SettingChange change, SettingsPlan plan) {
    SysctlText.checkKey(name(), change.key());
    plan.policy().checkSysctl(name(), change.key(), change.text());
    return SysctlText.apply(text, change);
  }
}
