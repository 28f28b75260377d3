package dev.kubeos.cluster.proxy.model;

import java.time.Duration;
import java.util.Objects;

/**
 * How long each kind of wait of the proxy may last, counted from the instant its phase was recorded
 * ({@code status.phasetime}). {@link Phase#timeout(PhaseTimeouts)} says which one applies to a
 * phase.
 *
 * @param drain the drain's deadline: the OS resource's {@code draintimeout}, else the proxy's
 *     default
 * @param reboot how long a requested reboot may take before the attempt fails; also how long the
 *     node, back at the target, may wait for its agent to confirm the commit ({@link
 *     Phase#VERIFYING})
 * @param agentRetry how long an agent call that failed with a transient error (class RETRY, e.g.
 *     busy) is retried before the attempt fails
 */
public record PhaseTimeouts(Duration drain, Duration reboot, Duration agentRetry) {
  public PhaseTimeouts {
    Objects.requireNonNull(drain, "drain");
    Objects.requireNonNull(reboot, "reboot");
    Objects.requireNonNull(agentRetry, "agentRetry");
  }
}
