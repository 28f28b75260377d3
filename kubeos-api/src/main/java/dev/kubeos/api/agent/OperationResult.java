package dev.kubeos.api.agent;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * Result of upstream's methods: {@code {"status": "UpgradeReady" | "Upgraded" | ...}}.
 *
 * @param status upstream's status word
 * @param warnings ours, optional: what the agent skipped instead of refusing, as upstream does
 *     (e.g. {@code kernel.sysctl} with {@code operation: delete}); left out of the JSON when empty,
 *     so upstream's proxy sees exactly {@code {"status": "Configured"}}
 */
public record OperationResult(
    @JsonProperty("status") String status,
    @JsonProperty("warnings") @JsonInclude(JsonInclude.Include.NON_EMPTY) List<String> warnings) {
  public static final OperationResult UPGRADE_READY = new OperationResult("UpgradeReady");
  public static final OperationResult UPGRADED = new OperationResult("Upgraded");
  public static final OperationResult ROLLBACKED = new OperationResult("Rollbacked");
  public static final OperationResult CONFIGURED = new OperationResult("Configured");

  public OperationResult {
    warnings = warnings == null ? List.of() : List.copyOf(warnings);
  }

  public OperationResult(String status) {
    this(status, List.of());
  }
}
