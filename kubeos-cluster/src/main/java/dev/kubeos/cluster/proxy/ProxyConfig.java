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
 */
public record ProxyConfig(
    Duration pollInterval,
    Duration rebootTimeout,
    Duration defaultDrainTimeout,
    Duration resync,
    Duration idleResync) {

  /** The longest pause of an idle proxy while its watches run: 10 min, see {@link #idleResync}. */
  public static final Duration IDLE_RESYNC = Duration.ofMinutes(10);

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
   * {@link #defaultDrainTimeout}; {@link #rebootTimeout} for the reboot and for retrying a
   * transient agent error.
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
   * while an attempt waits, 10 min while idle.
   */
  public static ProxyConfig defaults() {
    return new ProxyConfig(
        Duration.ofSeconds(5),
        Duration.ofMinutes(15),
        Duration.ofMinutes(10),
        Duration.ofSeconds(60),
        IDLE_RESYNC);
  }
}
