package dev.kubeos.crd;

import com.fasterxml.jackson.annotation.JsonProperty;

/** What an {@link OS} resource asks of its nodes ({@code spec.opstype}). */
public enum OpsType {
  /** Install {@code osversion} from the image and reboot into it. */
  @JsonProperty("upgrade")
  UPGRADE,
  /** Apply {@code sysconfigs} without changing the OS version. */
  @JsonProperty("config")
  CONFIG,
  /** Go back to {@code osversion}, the version in the other slot. */
  @JsonProperty("rollback")
  ROLLBACK;

  /** The value as written in YAML. */
  public String wireName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
