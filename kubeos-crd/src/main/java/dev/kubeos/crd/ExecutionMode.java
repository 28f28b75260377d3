package dev.kubeos.crd;

import com.fasterxml.jackson.annotation.JsonProperty;

/** How many selected nodes may be worked on at once ({@code spec.executionmode}). */
public enum ExecutionMode {
  /** Up to {@code maxunavailable} nodes at a time (upstream's default). */
  @JsonProperty("parallel")
  PARALLEL,
  /** One node at a time. */
  @JsonProperty("serial")
  SERIAL;

  /** The value as written in YAML. */
  public String wireName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
