package dev.kubeos.agent.settings.model;

import java.util.List;

/**
 * The settings of one model.
 *
 * @param model kernel.sysctl, kernel.sysctl.persist, grub.cmdline.current, grub.cmdline.next,
 *     kubernetes.kubelet, container.containerd or pam.limits
 * @param configPath file to edit instead of the model's default, or null
 * @param contents the changes, applied in order
 */
public record ModelSettings(String model, String configPath, List<SettingChange> contents) {
  public ModelSettings {
    contents = List.copyOf(contents);
  }
}
