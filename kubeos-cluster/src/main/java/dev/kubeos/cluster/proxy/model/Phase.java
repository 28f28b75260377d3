package dev.kubeos.cluster.proxy.model;

import java.util.Arrays;

/**
 * A step of the node proxy's state machine, as written to {@code OSInstance.status.phase}. Each
 * phase is recorded <em>before</em> its action runs, so a restarted proxy finds the step it was in
 * and redoes its action; every action is safe to repeat except the reboot, which {@link #REBOOTING}
 * guards (it is requested only on the transition into it, never on resume).
 */
public enum Phase {
  /** Nothing assigned, or the node was released. */
  IDLE("Idle"),
  /** Agent {@code prepare_upgrade} (and the {@code upgradeconfigs}): repeatable. */
  STAGING("Staging"),
  /** Mark the node unschedulable, recording that the proxy did it. */
  CORDONING("Cordoning"),
  /** Evict the node's pods through the Eviction API until none is left or the drain times out. */
  DRAINING("Draining"),
  /**
   * Reboot requested (agent {@code upgrade} or {@code rollback}); waiting for the node to return.
   */
  REBOOTING("Rebooting"),
  /** The node came back: check that it runs the target version. */
  VERIFYING("Verifying"),
  /** Agent {@code configure} with {@code sysconfigs}: repeatable (all-or-nothing on the node). */
  CONFIGURING("Configuring"),
  /** Make the node schedulable again, if the proxy cordoned it. */
  UNCORDONING("Uncordoning"),
  /** The node reached the target (read by the planner). */
  DONE("Done"),
  /** The attempt at the target failed (read by the planner, charged to the failure budget). */
  FAILED("Failed");

  private final String wireName;

  Phase(String wireName) {
    this.wireName = wireName;
  }

  /** The value in {@code status.phase}. */
  public String wireName() {
    return wireName;
  }

  /** Whether the attempt is over (the node is released). */
  public boolean terminal() {
    return this == DONE || this == FAILED;
  }

  /** Whether an attempt is under way. */
  public boolean inFlight() {
    return this != IDLE && !terminal();
  }

  /** Whether the node may already be rebooting or running the new version in this phase. */
  public boolean afterRebootRequest() {
    return this == REBOOTING || this == VERIFYING || this == CONFIGURING || this == UNCORDONING;
  }

  /** Parses {@code status.phase}; absent means {@link #IDLE}. */
  public static Phase parse(String wire) {
    if (wire == null || wire.isEmpty()) {
      return IDLE;
    }
    return Arrays.stream(values())
        .filter(p -> p.wireName.equals(wire))
        .findFirst()
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "status.phase '"
                        + wire
                        + "' is not a proxy phase; expected one of "
                        + Arrays.toString(Arrays.stream(values()).map(Phase::wireName).toArray())));
  }
}
