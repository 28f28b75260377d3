package dev.kubeos.agent.settings;

import dev.kubeos.agent.settings.model.ModelSettings;

/** One upstream settings model: validates its changes and plans their edits (no writes). */
public interface SettingsModel {
  /** The model name as in the request (kernel.sysctl, kubernetes.kubelet, ...). */
  String name();

  /** Validates every change and records the resulting edits in {@code plan}. */
  void plan(ModelSettings settings, SettingsPlan plan);
}
