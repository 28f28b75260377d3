package dev.kubeos.cluster.proxy.model;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * The node proxy's decisions, pure: from what it observes to the next {@link Step}. The order of
 * phases per operation is {@link ProxyOperation#steps()}; this class adds the rules for starting,
 * finishing, aborting, and the two observations that need no action: a requested reboot finished
 * ({@link Phase#REBOOTING}) and the node runs the target ({@link Phase#VERIFYING}).
 *
 * <p>While {@link Phase#REBOOTING}, the node's {@code bootID} tells a reboot that happened from one
 * that did not: a new bootID with the old version means the trial boot fell back (fail at once);
 * the same bootID means the reboot is still to come (wait, up to the reboot timeout).
 *
 * <p>A node is at an OS version when {@code status.nodeInfo.osImage} equals {@code osversion}, the
 * same test the planner applies (so what the proxy reports done, the planner counts at target).
 */
public final class ProxyStateMachine {
  private ProxyStateMachine() {}

  /** The next step for the node. */
  public static Step decide(Observed o) {
    Phase phase = o.phase();
    boolean sameTarget = o.desiredTarget() != null && o.desiredTarget().equals(o.statusTarget());
    if (o.op() == null) {
      if (phase.inFlight()) {
        return new Step.Abort(
            "spec.nodestatus became idle during " + phase.wireName() + "; stopped the attempt");
      }
      return new Step.Nothing("no operation assigned (spec.nodestatus idle)");
    }
    if (o.desiredTarget() == null) {
      return new Step.Wait(o.problem() == null ? "target unknown" : o.problem());
    }
    if (!sameTarget) {
      if (phase.inFlight()) {
        return new Step.Abort(
            "the target changed from "
                + o.statusTarget()
                + " to "
                + o.desiredTarget()
                + " during "
                + phase.wireName()
                + "; stopped the old attempt");
      }
      return new Step.Start(o.op(), o.desiredTarget());
    }
    if (phase.terminal()) {
      return new Step.Release();
    }
    if (phase == Phase.IDLE) {
      return new Step.Start(o.op(), o.desiredTarget());
    }
    if (!o.op().steps().contains(phase)) {
      return new Step.Abort(
          "phase "
              + phase.wireName()
              + " is not a step of "
              + o.op().nodestatus()
              + "; restarting");
    }
    return switch (phase) {
      case REBOOTING -> rebooting(o);
      case VERIFYING -> verifying(o);
      default -> new Step.Act(o.op(), phase);
    };
  }

  private static Step rebooting(Observed o) {
    if (o.desiredTarget().equals(o.osImage())) {
      return new Step.Advance(Phase.VERIFYING);
    }
    if (rebooted(o)) {
      return new Step.Fail(
          "the node rebooted (bootID "
              + o.bootIdAtReboot()
              + " -> "
              + o.bootId()
              + ") but came back at '"
              + o.osImage()
              + "', expected '"
              + o.desiredTarget()
              + "': the trial boot of the new version failed and the node fell back to the old"
              + " one (see the agent's log on the node: kubeos agent status)");
    }
    Instant since = o.phaseSince() == null ? o.now() : o.phaseSince();
    Duration waited = Duration.between(since, o.now());
    if (waited.compareTo(o.rebootTimeout()) >= 0) {
      return new Step.Fail(notRebooted(o));
    }
    return new Step.Wait(
        "rebooting into " + o.desiredTarget() + " (" + waited.toSeconds() + " s so far)");
  }

  /** Whether the node booted since the reboot request: both bootIDs known and different. */
  static boolean rebooted(Observed o) {
    return o.bootIdAtReboot() != null
        && o.bootId() != null
        && !o.bootIdAtReboot().equals(o.bootId());
  }

  private static String notRebooted(Observed o) {
    String within = " within " + seconds(o.rebootTimeout()) + " of the reboot request";
    if (o.bootIdAtReboot() != null && o.bootId() != null) {
      return "the node did not reboot"
          + within
          + " (bootID still "
          + o.bootId()
          + ", it runs '"
          + o.osImage()
          + "'): the agent accepted the request but the reboot did not happen; check the node"
          + " (kubeos agent status, journalctl -u kubeos-agent)";
    }
    return "the node did not come back at "
        + o.desiredTarget()
        + within
        + "; it runs '"
        + o.osImage()
        + "': the reboot did not happen or the trial boot failed and the node fell back"
        + " (no bootID to tell which; see the agent's log on the node: kubeos agent status)";
  }

  private static String seconds(Duration d) {
    return d.toMillis() % 1000 == 0
        ? d.toSeconds() + " s"
        : String.format(java.util.Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
  }

  private static Step verifying(Observed o) {
    if (Objects.equals(o.desiredTarget(), o.osImage())) {
      return new Step.Advance(o.op().after(Phase.VERIFYING));
    }
    return new Step.Fail(
        "after the reboot the node runs '"
            + o.osImage()
            + "', expected '"
            + o.desiredTarget()
            + "': the trial boot failed and the node fell back to the old version");
  }
}
