package dev.kubeos.cluster.proxy.model;

import java.time.Duration;
import java.util.Arrays;
import java.util.function.Function;

/**
 * A step of the node proxy's state machine, as written to {@code OSInstance.status.phase}. Each
 * phase is recorded <em>before</em> its action runs, so a restarted proxy finds the step it was in
 * and redoes its action; every action is safe to repeat except the reboot, which {@link #REBOOTING}
 * guards (it is requested only on the transition into it, never on resume).
 *
 * <p>Each phase also names the limit on how long it may last, counted from {@code
 * status.phasetime}: {@link #timeout(PhaseTimeouts)}. Past it, {@link ProxyStateMachine} fails the
 * attempt instead of waiting or retrying; a phase without one neither waits nor retries.
 */
public enum Phase {
  /** Nothing assigned, or the node was released. */
  IDLE("Idle", none()),
  /**
   * Agent {@code prepare_upgrade} (and the {@code upgradeconfigs}): repeatable; a transient agent
   * error is retried until {@link PhaseTimeouts#agentRetry()}.
   */
  STAGING("Staging", PhaseTimeouts::agentRetry),
  /** Mark the node unschedulable, recording that the proxy did it. */
  CORDONING("Cordoning", none()),
  /**
   * The node is cordoned; kubeos-operator evicts its pods through the Eviction API and answers in
   * {@code status.drain} (drained, or failed with the pods that blocked it), at the latest at
   * {@link PhaseTimeouts#drain()}. The proxy has no pod rights: it only waits for that answer.
   */
  DRAINING("Draining", PhaseTimeouts::drain),
  /**
   * Reboot requested (agent {@code upgrade} or {@code rollback}); waiting for the node to return,
   * at most {@link PhaseTimeouts#reboot()}.
   */
  REBOOTING("Rebooting", PhaseTimeouts::reboot),
  /**
   * The node came back at the target version ({@code osImage}): wait until its agent confirms that
   * the booted slot holds the target and is committed (the node's health check commits a trial boot
   * or falls back from it), asking the agent every {@code commitPoll}, at most {@link
   * PhaseTimeouts#reboot()}. The node stays cordoned meanwhile.
   */
  VERIFYING("Verifying", PhaseTimeouts::reboot),
  /**
   * Agent {@code configure} with {@code sysconfigs}: repeatable (all-or-nothing on the node); a
   * transient agent error is retried until {@link PhaseTimeouts#agentRetry()}.
   */
  CONFIGURING("Configuring", PhaseTimeouts::agentRetry),
  /** Make the node schedulable again, if the proxy cordoned it. */
  UNCORDONING("Uncordoning", none()),
  /** The node reached the target (read by the planner). */
  DONE("Done", none()),
  /** The attempt at the target failed (read by the planner, charged to the failure budget). */
  FAILED("Failed", none());

  private final String wireName;
  private final Function<PhaseTimeouts, Duration> timeout;

  Phase(String wireName, Function<PhaseTimeouts, Duration> timeout) {
    this.wireName = wireName;
    this.timeout = timeout;
  }

  private static Function<PhaseTimeouts, Duration> none() {
    return t -> null;
  }

  /** How long this phase may last (from {@code status.phasetime}); null: no limit applies. */
  public Duration timeout(PhaseTimeouts timeouts) {
    return timeout.apply(timeouts);
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
