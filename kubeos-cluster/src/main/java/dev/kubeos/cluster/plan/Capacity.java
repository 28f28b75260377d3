package dev.kubeos.cluster.plan;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Headroom of the schedulable nodes, used to decide whether draining one more node would leave its
 * evicted pods room elsewhere. Pods are placed first-fit, largest first, onto nodes that stay
 * schedulable; a node chosen for draining leaves the pool and the pods placed on it earlier are
 * placed again. Conservative: node selectors, affinities, taints and other resources are ignored,
 * so a "fits" is a necessary condition, not a guarantee.
 */
final class Capacity {
  private static final Comparator<Resources> LARGEST_FIRST =
      Comparator.comparingLong(Resources::cpuMillis)
          .thenComparingLong(Resources::memoryBytes)
          .reversed();

  private final List<String> names = new ArrayList<>();
  private final Map<String, Integer> index = new HashMap<>();
  private long[] freeCpu;
  private long[] freeMem;
  private boolean[] inPool;
  private final Map<Integer, List<Resources>> placed = new HashMap<>();
  // upper bounds of any pool node's free CPU and memory: a pod above either cannot fit anywhere,
  // which turns the refusals of a full cluster into O(1) instead of a scan of every node
  private long maxCpu;
  private long maxMem;

  /** Pool: ready, schedulable nodes that are not being worked on. */
  Capacity(List<NodeFacts> nodes, java.util.Set<String> excluded) {
    List<NodeFacts> pool = new ArrayList<>();
    for (NodeFacts n : nodes) {
      if (n.ready() && !n.unschedulable() && !excluded.contains(n.name())) {
        pool.add(n);
      }
    }
    freeCpu = new long[pool.size()];
    freeMem = new long[pool.size()];
    inPool = new boolean[pool.size()];
    for (int i = 0; i < pool.size(); i++) {
      NodeFacts n = pool.get(i);
      names.add(n.name());
      index.put(n.name(), i);
      Resources free = n.allocatable().minus(n.requested());
      freeCpu[i] = free.cpuMillis();
      freeMem[i] = free.memoryBytes();
      inPool[i] = true;
    }
    recomputeBounds();
  }

  private void recomputeBounds() {
    maxCpu = Long.MIN_VALUE;
    maxMem = Long.MIN_VALUE;
    for (int i = 0; i < freeCpu.length; i++) {
      if (inPool[i]) {
        maxCpu = Math.max(maxCpu, freeCpu[i]);
        maxMem = Math.max(maxMem, freeMem[i]);
      }
    }
  }

  /**
   * Takes {@code node} out of the pool and places its evicted pods (plus any placed on it earlier)
   * on the rest. On success the change is kept; otherwise nothing changes and the first pod that
   * does not fit is described.
   */
  Optional<String> drain(NodeFacts node) {
    List<Resources> pods = new ArrayList<>();
    for (PodView p : node.pods()) {
      if (p.evictedByDrain()) {
        pods.add(p.requests());
      }
    }
    Integer self = index.get(node.name());
    if (self != null) {
      pods.addAll(placed.getOrDefault(self, List.of()));
      inPool[self] = false;
    }
    pods.sort(LARGEST_FIRST);
    List<int[]> log = new ArrayList<>();
    Resources total = Resources.ZERO;
    for (Resources pod : pods) {
      total = total.plus(pod);
      int at = pod.cpuMillis() > maxCpu || pod.memoryBytes() > maxMem ? -1 : firstFit(pod);
      if (at < 0) {
        for (int[] undo : log) {
          Resources r = pods.get(undo[1]);
          freeCpu[undo[0]] += r.cpuMillis();
          freeMem[undo[0]] += r.memoryBytes();
          List<Resources> l = placed.get(undo[0]);
          l.remove(l.size() - 1);
        }
        if (self != null) {
          inPool[self] = true;
        }
        recomputeBounds();
        return Optional.of(
            "its pods ("
                + describe(pods)
                + ") would not fit on the remaining schedulable nodes:"
                + " no node has room for a pod requesting "
                + pod
                + "; waiting for capacity");
      }
      freeCpu[at] -= pod.cpuMillis();
      freeMem[at] -= pod.memoryBytes();
      placed.computeIfAbsent(at, k -> new ArrayList<>()).add(pod);
      log.add(new int[] {at, log.size()});
    }
    if (self != null) {
      placed.remove(self);
    }
    return Optional.empty();
  }

  private int firstFit(Resources pod) {
    for (int i = 0; i < freeCpu.length; i++) {
      if (inPool[i] && freeCpu[i] >= pod.cpuMillis() && freeMem[i] >= pod.memoryBytes()) {
        return i;
      }
    }
    return -1;
  }

  private static String describe(List<Resources> pods) {
    Resources sum = Resources.ZERO;
    for (Resources r : pods) {
      sum = sum.plus(r);
    }
    return pods.size() + " pods, " + sum;
  }
}
