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
 * @param agent the agent's answer to {@code status}, asked only when {@link
 *     ProxyStateMachine#needsAgentStatus} says so (in {@link Phase#VERIFYING}); null otherwise
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
    DrainAnswer drain,
    AgentAnswer agent) {

  /** What the proxy sees without the agent's status (any phase but {@link Phase#VERIFYING}). */
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
      PhaseTimeouts timeouts,
      DrainAnswer drain) {
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
        drain,
        null);
  }

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
        null,
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
        d,
        agent);
  }

  /** The same observation with the agent's answer {@code a} to {@code status}. */
  public Observed withAgent(AgentAnswer a) {
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
        drain,
        a);
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
