package dev.kubeos.cluster.proxy;

import dev.kubeos.crd.OSInstance;
import dev.kubeos.crd.OSInstanceSpec;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The test's eye on the fleet, fed by watches on nodes and OSInstances. On every event it counts
 * the selected nodes that are unavailable as the planner counts them (cordoned, NotReady, or
 * assigned an operation) and keeps the maximum; it also counts, per node, the assignments (idle to
 * an operation), the osImage changes and the cordons it saw.
 */
final class FleetMonitor {
  /** One watched change that matters for the count, by the API server's resourceVersion. */
  private record Change(long rv, String node, boolean instance, boolean down) {}

  private final List<Change> changes = new ArrayList<>();
  private final Map<String, String> lastNodeRv = new HashMap<>();
  private final Map<String, String> lastInstanceRv = new HashMap<>();
  private final Set<String> selected;
  private final Map<String, Integer> assignments = new HashMap<>();
  private final Map<String, Integer> imageChanges = new HashMap<>();
  private final Set<String> everCordoned = new HashSet<>();
  private final Map<String, Boolean> assigned = new HashMap<>();
  private final Map<String, String> image = new HashMap<>();

  FleetMonitor(Collection<String> selected) {
    this.selected = Set.copyOf(selected);
  }

  synchronized int assignments(String node) {
    return assignments.getOrDefault(node, 0);
  }

  synchronized int imageChanges(String node) {
    return imageChanges.getOrDefault(node, 0);
  }

  synchronized boolean everCordoned(String node) {
    return everCordoned.contains(node);
  }

  private synchronized void node(Node n) {
    String name = n.getMetadata().getName();
    boolean notReady =
        n.getStatus().getConditions().stream()
            .noneMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
    boolean cordoned = Boolean.TRUE.equals(n.getSpec().getUnschedulable());
    if (cordoned) {
      everCordoned.add(name);
    }
    changes.add(new Change(rv(n), name, false, notReady || cordoned));
    lastNodeRv.put(name, n.getMetadata().getResourceVersion());
    String img = n.getStatus().getNodeInfo().getOsImage();
    String before = image.put(name, img);
    if (before != null && !before.equals(img)) {
      imageChanges.merge(name, 1, Integer::sum);
    }
  }

  private synchronized void instance(OSInstance i) {
    String name = i.getMetadata().getName();
    boolean now = !OSInstanceSpec.IDLE.equals(i.getSpec().getNodestatus());
    changes.add(new Change(rv(i), name, true, now));
    lastInstanceRv.put(name, i.getMetadata().getResourceVersion());
    Boolean before = assigned.put(name, now);
    if (now && !Boolean.TRUE.equals(before)) {
      assignments.merge(name, 1, Integer::sum);
    }
  }

  /**
   * The most selected nodes unavailable at once, as the planner counts them (cordoned, NotReady, or
   * assigned an operation): the changes replayed in the API server's order. Node and OSInstance
   * events come on two watches, and either may lag the other; counting as they arrive would combine
   * a node's stale cordon with another node's newer assignment. The mock server's resourceVersion
   * is one counter for every kind, so it orders both streams. Call it once {@link #caughtUp} holds.
   */
  synchronized int maxUnavailable() {
    List<Change> ordered = new ArrayList<>(changes);
    ordered.sort(Comparator.comparingLong(Change::rv));
    Map<String, Boolean> nodeDown = new HashMap<>();
    Map<String, Boolean> isAssigned = new HashMap<>();
    int max = 0;
    for (Change c : ordered) {
      (c.instance() ? isAssigned : nodeDown).put(c.node(), c.down());
      int down = 0;
      for (String n : selected) {
        if (Boolean.TRUE.equals(nodeDown.get(n)) || Boolean.TRUE.equals(isAssigned.get(n))) {
          down++;
        }
      }
      max = Math.max(max, down);
    }
    return max;
  }

  /** Whether this monitor has seen the current version of every node and OSInstance listed. */
  synchronized boolean caughtUp(List<Node> nodes, List<OSInstance> instances) {
    return nodes.stream()
            .allMatch(
                n ->
                    n.getMetadata()
                        .getResourceVersion()
                        .equals(lastNodeRv.get(n.getMetadata().getName())))
        && instances.stream()
            .allMatch(
                i ->
                    i.getMetadata()
                        .getResourceVersion()
                        .equals(lastInstanceRv.get(i.getMetadata().getName())));
  }

  private static long rv(HasMetadata o) {
    return Long.parseLong(o.getMetadata().getResourceVersion());
  }

  ResourceEventHandler<Node> nodes() {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(Node n) {
        node(n);
      }

      @Override
      public void onUpdate(Node o, Node n) {
        node(n);
      }

      @Override
      public void onDelete(Node n, boolean unknown) {}
    };
  }

  ResourceEventHandler<OSInstance> instances() {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(OSInstance i) {
        instance(i);
      }

      @Override
      public void onUpdate(OSInstance o, OSInstance i) {
        instance(i);
      }

      @Override
      public void onDelete(OSInstance i, boolean unknown) {}
    };
  }
}
