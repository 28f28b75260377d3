package dev.kubeos.api.agent;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Result of upstream's methods: {@code {"status": "UpgradeReady" | "Upgraded" | ...}}. */
public record OperationResult(@JsonProperty("status") String status) {
  public static final OperationResult UPGRADE_READY = new OperationResult("UpgradeReady");
  public static final OperationResult UPGRADED = new OperationResult("Upgraded");
  public static final OperationResult ROLLBACKED = new OperationResult("Rollbacked");
  public static final OperationResult CONFIGURED = new OperationResult("Configured");
}
