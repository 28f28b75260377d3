package dev.kubeos.cluster.proxy.model;

import java.time.Duration;
import java.time.Instant;

/**
 * What the proxy sees of its node on one pass.
 *
 * @param op the operation {@code spec.nodestatus} assigns, null for idle
 * @param desiredTarget OS version (upgrade, rollback) or sysconfigs version (config) wanted; null
 *     when it cannot be determined, then {@code problem} says why
 * @param problem why {@code desiredTarget} is null (e.g. the OS resource is missing), or null
 * @param phase {@code status.phase}
 * @param statusTarget {@code status.target}: what {@code phase} refers to
 * @param phaseSince {@code status.phasetime}, null if never recorded
 * @param osImage the node's {@code status.nodeInfo.osImage}
 * @param bootId the node's {@code status.nodeInfo.bootID} (changes with every boot), null if
 *     unknown
 * @param bootIdAtReboot {@code status.bootid}: the bootID recorded when the reboot was requested,
 *     null if none was recorded
 * @param now the proxy's clock
 * @param timeouts the limits of the phases ({@link Phase#timeout(PhaseTimeouts)})
 * @param drain the operator's answer to the recorded {@link Phase#DRAINING}, null while it has not
 *     answered (or in any other phase)
 */
public record Observed(
    ProxyOperation op,
    String desiredTarget,
    String problem,
    Phase phase,
    String statusTarget,
    Instant phaseSince,
    String osImage,
    String bootId,
    String bootIdAtReboot,
    Instant now,
    PhaseTimeouts timeouts,
    DrainAnswer drain) {

  /** What the proxy sees when the operator has not answered a drain. */
  public Observed(
      ProxyOperation op,
      String desiredTarget,
      String problem,
      Phase phase,
      String statusTarget,
      Instant phaseSince,
      String osImage,
      String bootId,
      String bootIdAtReboot,
      Instant now,
      PhaseTimeouts timeouts) {
    this(
        op,
        desiredTarget,
        problem,
        phase,
        statusTarget,
        phaseSince,
        osImage,
        bootId,
        bootIdAtReboot,
        now,
        timeouts,
        null);
  }

  /** The same observation with the operator's drain answer {@code d}. */
  public Observed withDrain(DrainAnswer d) {
    return new Observed(
        op,
        desiredTarget,
        problem,
        phase,
        statusTarget,
        phaseSince,
        osImage,
        bootId,
        bootIdAtReboot,
        now,
        timeouts,
        d);
  }

  /** When {@code phase} began: {@code phaseSince}, or now if it was never recorded. */
  public Instant since() {
    return phaseSince == null ? now : phaseSince;
  }

  /** When {@code phase} runs out of time ({@link Phase#timeout}); null if it has no limit. */
  public Instant deadline() {
    Duration limit = phase.timeout(timeouts);
    return limit == null ? null : since().plus(limit);
  }
}
