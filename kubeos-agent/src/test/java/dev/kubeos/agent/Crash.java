package dev.kubeos.agent;

import java.util.ArrayList;
import java.util.List;

/**
 * A kill switch shared by the crash-injecting ports of one simulated node: the agent process "dies"
 * at the N-th durable write point. After that, every further durable write dies too, as nothing of
 * a killed process runs on.
 */
final class Crash {
  /** Thrown at the kill point; an Error so the agent's own error handling cannot swallow it. */
  static final class Killed extends Error {
    Killed(String point) {
      super("agent killed at " + point);
    }
  }

  private int remaining;
  private final int tornAt;
  private final List<String> points = new ArrayList<>();
  private String killedAt;

  /**
   * @param killAt the 0-based write point to die at, -1 for never
   * @param tornAt when the kill point is a boot-env write: bytes of the new block that land, -1 for
   *     a clean kill before the write
   */
  Crash(int killAt, int tornAt) {
    this.remaining = killAt;
    this.tornAt = tornAt;
  }

  /** Called before a durable write; returns normally when the write may happen. */
  synchronized void point(String name) {
    points.add(name);
    if (killedAt != null) {
      throw new Killed(name + " (after death at " + killedAt + ")");
    }
    if (remaining == 0) {
      killedAt = name;
      throw new Killed(name);
    }
    if (remaining > 0) {
      remaining--;
    }
  }

  /** Like {@link #point} for a boot-env write; returns the torn length when this write tears. */
  synchronized int bootEnvPoint(String name) {
    if (killedAt == null && remaining == 0 && tornAt >= 0) {
      points.add(name + " torn@" + tornAt);
      killedAt = name;
      return tornAt;
    }
    point(name);
    return -1;
  }

  synchronized boolean killed() {
    return killedAt != null;
  }

  synchronized String killedAt() {
    return killedAt;
  }

  synchronized List<String> points() {
    return List.copyOf(points);
  }
}
