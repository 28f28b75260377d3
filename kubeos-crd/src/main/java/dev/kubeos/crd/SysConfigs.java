package dev.kubeos.crd;

import java.util.ArrayList;
import java.util.List;

/**
 * A versioned set of configurations ({@code sysconfigs}: applied after boot or on their own; {@code
 * upgradeconfigs}: applied before the reboot into a new version). A node counts as configured when
 * the version it reports equals {@link #getVersion()}.
 */
public class SysConfigs {
  private String version;
  private List<SysConfig> configs = new ArrayList<>();

  public SysConfigs() {}

  public SysConfigs(String version) {
    this.version = version;
  }

  public String getVersion() {
    return version;
  }

  public void setVersion(String version) {
    this.version = version;
  }

  public List<SysConfig> getConfigs() {
    return configs;
  }

  public void setConfigs(List<SysConfig> configs) {
    this.configs = configs == null ? new ArrayList<>() : configs;
  }
}
