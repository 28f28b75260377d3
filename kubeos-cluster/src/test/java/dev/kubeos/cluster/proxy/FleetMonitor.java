package dev.kubeos.cluster.proxy;

import dev.kubeos.crd.OSInstance;
import dev.kubeos.crd.OSInstanceSpec;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The test's eye on the fleet, fed by watches on nodes and OSInstances. On every event it counts
 * the selected nodes that are unavailable as the planner counts them (cordoned, NotReady, or
 * assigned an operation) and keeps the maximum; it also counts, per node, the assignments (idle to
 * an operation), the osImage changes and the cordons it saw.
 */
final class FleetMonitor {
  final AtomicInteger maxUnavailable = new AtomicInteger();
  private final Set<String> selected;
  private final Map<String, Integer> assignments = new HashMap<>();
  private final Map<String, Integer> imageChanges = new HashMap<>();
  private final Set<String> everCordoned = new HashSet<>();
  private final Map<String, Boolean> cordonedOrNotReady = new HashMap<>();
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
    cordonedOrNotReady.put(name, notReady || cordoned);
    String img = n.getStatus().getNodeInfo().getOsImage();
    String before = image.put(name, img);
    if (before != null && !before.equals(img)) {
      imageChanges.merge(name, 1, Integer::sum);
    }
    count();
  }

  private synchronized void instance(OSInstance i) {
    String name = i.getMetadata().getName();
    boolean now = !OSInstanceSpec.IDLE.equals(i.getSpec().getNodestatus());
    Boolean before = assigned.put(name, now);
    if (now && !Boolean.TRUE.equals(before)) {
      assignments.merge(name, 1, Integer::sum);
    }
    count();
  }

  private void count() {
    int down = 0;
    for (String n : selected) {
      if (Boolean.TRUE.equals(cordonedOrNotReady.get(n)) || Boolean.TRUE.equals(assigned.get(n))) {
        down++;
      }
    }
    maxUnavailable.accumulateAndGet(down, Math::max);
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
