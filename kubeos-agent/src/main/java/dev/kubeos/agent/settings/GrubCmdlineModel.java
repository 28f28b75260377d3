package dev.kubeos.agent.settings;

import dev.kubeos.agent.settings.model.CmdlineText;
import dev.kubeos.agent.settings.model.Invalid;
import dev.kubeos.agent.settings.model.ModelSettings;
import dev.kubeos.agent.settings.model.SettingChange;
import dev.kubeos.api.agent.Slot;

/**
 * {@code grub.cmdline.current} / {@code grub.cmdline.next}: the extra kernel command line of the
 * booted slot / the other slot, kept per slot in the GRUB environment ({@code kubeos_cmdline_a},
 * {@code kubeos_cmdline_b}; docs/boot-contract.md). Takes effect at that slot's next boot.
 */
final class GrubCmdlineModel implements SettingsModel {
  static final String CURRENT = "grub.cmdline.current";
  static final String NEXT = "grub.cmdline.next";

  private final String name;

  GrubCmdlineModel(String name) {
    this.name = name;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public void plan(ModelSettings settings, Plan plan) {
    if (settings.configPath() != null && !settings.configPath().isBlank()) {
      throw Invalid.of(name, null, "configpath is not used by this model (the GRUB env is)");
    }
    if (plan.booted() == null) {
      throw Invalid.of(name, null, "the booted slot is unknown; pass --booted-slot");
    }
    Slot slot = name.equals(CURRENT) ? plan.booted() : plan.booted().other();
    String line = plan.cmdline(name, slot);
    for (SettingChange c : settings.contents()) {
      line = CmdlineText.apply(name, line, c);
    }
    plan.putCmdline(name, slot, line);
  }
}
