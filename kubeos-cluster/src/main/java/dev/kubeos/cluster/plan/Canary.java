package dev.kubeos.cluster.plan;

import java.time.Instant;
import java.util.Comparator;
import java.util.List;

/**
 * The canary rule: the first {@code canarycount} nodes of a rollout go alone; the rest wait until
 * that many nodes finished at the target and {@code canarysoak} passed since the last of them.
 *
 * @param done selected nodes that reached the target in this rollout (end time recorded)
 * @param busy selected nodes in progress or failed
 */
record Canary(SpecRules r, List<NodeFacts> done, int busy, Instant now) {
  private int count() {
    return r.canaryCount();
  }

  /** The instant the soak ends, once enough canary nodes are done. */
  Instant soakEnd() {
    if (count() == 0 || done.size() < count()) {
      return null;
    }
    List<Instant> ends =
        done.stream().map(n -> n.instance().endTime()).sorted(Comparator.naturalOrder()).toList();
    return ends.get(count() - 1).plus(r.canarySoak());
  }

  /** Whether the rollout is past its canary phase (or has none). */
  boolean passed() {
    Instant end = soakEnd();
    return count() == 0 || (end != null && !now.isBefore(end));
  }

  /** How many more nodes may start during the canary phase. */
  int cap() {
    if (passed()) {
      return Integer.MAX_VALUE;
    }
    return Math.max(0, count() - done.size() - busy);
  }

  /** Why new nodes wait for the canary, or {@code null} when they need not. */
  String waitMessage() {
    if (passed() || cap() > 0) {
      return null;
    }
    Instant end = soakEnd();
    if (end == null) {
      return "waiting for the "
          + count()
          + " canary nodes to finish ("
          + done.size()
          + " done so far)";
    }
    return "canary soak: the other nodes start at " + end;
  }
}
