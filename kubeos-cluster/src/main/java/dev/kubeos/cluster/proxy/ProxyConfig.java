package dev.kubeos.cluster.proxy;

import dev.kubeos.cluster.proxy.model.PhaseTimeouts;
import dev.kubeos.crd.OSSpec;
import java.time.Duration;

/**
 * Timings of the node proxy.
 *
 * @param pollInterval pause after a pass that failed or retries an agent call
 * @param rebootTimeout longest a requested reboot may take before the attempt fails
 * @param defaultDrainTimeout drain timeout when the OS resource sets no {@code draintimeout} (the
 *     operator drains; past this plus {@link
 *     dev.kubeos.cluster.proxy.model.ProxyStateMachine#DRAIN_REPORT_GRACE} without its answer the
 *     proxy fails the attempt): the same default as the operator's
 * @param resync longest pause between two passes while an attempt waits and nothing changes: the
 *     proxy watches its Node and OSInstance and looks again as soon as either changes, so this only
 *     bounds how late a timeout (reboot, drain) or a change to the OS resource (not watched) is
 *     noticed
 * @param idleResync longest pause after a pass with nothing to do ({@code spec.nodestatus} idle)
 *     while both watches run: only a change to the OSInstance, which its watch reports, can give
 *     the proxy something to do, so this is no poll but a safety net for a watch that died without
 *     an error (a half-open connection); without working watches {@link #resync} applies
 * @param commitPoll pause between two questions to the agent while the node runs the target but its
 *     agent has not confirmed the commit yet ({@code Verifying}: the health check still runs, or
 *     the agent cannot be reached): nothing in the API server changes when the agent commits, so
 *     the proxy asks; only then, never while idle
 */
public record ProxyConfig(
    Duration pollInterval,
    Duration rebootTimeout,
    Duration defaultDrainTimeout,
    Duration resync,
    Duration idleResync,
    Duration commitPoll) {

  /** The longest pause of an idle proxy while its watches run: 10 min, see {@link #idleResync}. */
  public static final Duration IDLE_RESYNC = Duration.ofMinutes(10);

  /** How often a node waiting for its health check's commit asks its agent: 5 s. */
  public static final Duration COMMIT_POLL = Duration.ofSeconds(5);

  public ProxyConfig {
    if (commitPoll.isNegative() || commitPoll.isZero()) {
      throw new IllegalArgumentException("commitPoll must be positive, got " + commitPoll);
    }
  }

  /** Timings that ask the agent about a pending commit every {@link #pollInterval}. */
  public ProxyConfig(
      Duration pollInterval,
      Duration rebootTimeout,
      Duration defaultDrainTimeout,
      Duration resync,
      Duration idleResync) {
    this(pollInterval, rebootTimeout, defaultDrainTimeout, resync, idleResync, pollInterval);
  }

  /** Timings with one resync interval for both cases ({@link #idleResync} = {@link #resync}). */
  public ProxyConfig(
      Duration pollInterval,
      Duration rebootTimeout,
      Duration defaultDrainTimeout,
      Duration resync) {
    this(pollInterval, rebootTimeout, defaultDrainTimeout, resync, resync);
  }

  /**
   * The phases' limits for an attempt at {@code os}: its {@code draintimeout} (seconds), else
   * {@link #defaultDrainTimeout}; {@link #rebootTimeout} for the reboot, for the agent's
   * confirmation of the commit after it, and for retrying a transient agent error.
   *
   * @param os the OS resource's spec, null when it is unknown (no drain then)
   */
  public PhaseTimeouts timeouts(OSSpec os) {
    Duration drain =
        os == null || os.getDraintimeout() == null
            ? defaultDrainTimeout
            : Duration.ofSeconds(os.getDraintimeout());
    return new PhaseTimeouts(drain, rebootTimeout, rebootTimeout);
  }

  /**
   * Production defaults: 5 s polls (retried agent calls), 15 min reboot, 10 min drain, 60 s resync
   * while an attempt waits, 10 min while idle, the agent asked every 5 s while a commit is pending.
   */
  public static ProxyConfig defaults() {
    return new ProxyConfig(
        Duration.ofSeconds(5),
        Duration.ofMinutes(15),
        Duration.ofMinutes(10),
        Duration.ofSeconds(60),
        IDLE_RESYNC,
        COMMIT_POLL);
  }
}
