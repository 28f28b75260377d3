package dev.kubeos.agent.settings;

import dev.kubeos.agent.model.BootSelector;
import dev.kubeos.agent.model.BootState;
import dev.kubeos.agent.settings.model.CmdlineText;
import dev.kubeos.agent.settings.model.Invalid;
import dev.kubeos.agent.settings.model.ModelSettings;
import dev.kubeos.agent.settings.model.SettingChange;
import dev.kubeos.api.agent.Slot;
import java.util.EnumMap;
import java.util.Map;

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
  public void plan(ModelSettings settings, SettingsPlan plan) {
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
      plan.policy().checkCmdline(name, c.key(), c.text().strip());
    }
    fits(plan, slot, line);
    plan.putCmdline(name, slot, line);
  }

  /** Refuses a command line that would not fit the 1024-byte GRUB environment block. */
  private void fits(SettingsPlan plan, Slot slot, String line) {
    BootState now = plan.bootState(name);
    Map<Slot, String> lines = new EnumMap<>(Slot.class);
    lines.put(slot, line);
    lines.put(slot.other(), plan.cmdline(name, slot.other()));
    try {
      BootSelector.encode(
          new BootState(
              BootSelector.MAX_NUMBER,
              now.defaultSlot(),
              now.trialSlot(),
              BootSelector.MAX_NUMBER,
              lines));
    } catch (IllegalArgumentException e) {
      throw Invalid.of(
          name,
          null,
          "the kernel command lines would not fit the GRUB environment block ("
              + e.getMessage()
              + ")");
    }
  }
}
