package dev.kubeos.cluster.proxy.model;

import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Volume;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Which of a node's pods a drain evicts, upstream's {@code evictpodforce} rules (those of {@code
 * kubectl drain}): mirror pods (static pods) and DaemonSet pods are skipped, finished pods are
 * ignored; pods with an {@code emptyDir} volume (their data is lost) and pods no controller
 * recreates are evicted only with {@code evictpodforce: true}, otherwise the drain refuses and
 * names them.
 */
public final class DrainFilter {
  /** Annotation the kubelet puts on the API mirror of a static pod. */
  public static final String MIRROR_ANNOTATION = "kubernetes.io/config.mirror";

  private DrainFilter() {}

  /**
   * The pods to evict, and those a drain without force refuses.
   *
   * @param evict pods to evict, in input order
   * @param skipped mirror and DaemonSet pods, left on the node
   * @param refused {@code namespace/name: reason} of pods that need {@code evictpodforce}; empty
   *     when forced
   */
  public record Selection(List<Pod> evict, List<String> skipped, List<String> refused) {
    /** Whether the drain may go ahead. */
    public boolean allowed() {
      return refused.isEmpty();
    }
  }

  public static Selection select(List<Pod> pods, boolean evictpodforce) {
    List<Pod> evict = new ArrayList<>();
    List<String> skipped = new ArrayList<>();
    List<String> refused = new ArrayList<>();
    for (Pod p : pods) {
      if (finished(p)) {
        continue;
      }
      if (mirror(p) || daemonSet(p)) {
        skipped.add(name(p));
        continue;
      }
      List<String> reasons = new ArrayList<>();
      if (hasEmptyDir(p)) {
        reasons.add("uses emptyDir (local data is lost)");
      }
      if (controller(p) == null) {
        reasons.add("not managed by a controller (it will not be recreated)");
      }
      if (!reasons.isEmpty() && !evictpodforce) {
        refused.add(name(p) + ": " + String.join(", ", reasons));
        continue;
      }
      evict.add(p);
    }
    return new Selection(List.copyOf(evict), List.copyOf(skipped), List.copyOf(refused));
  }

  /** {@code namespace/name}. */
  public static String name(Pod p) {
    return p.getMetadata().getNamespace() + "/" + p.getMetadata().getName();
  }

  static boolean finished(Pod p) {
    String phase = p.getStatus() == null ? null : p.getStatus().getPhase();
    return "Succeeded".equals(phase) || "Failed".equals(phase);
  }

  static boolean mirror(Pod p) {
    Map<String, String> a = p.getMetadata().getAnnotations();
    return a != null && a.containsKey(MIRROR_ANNOTATION);
  }

  static boolean daemonSet(Pod p) {
    OwnerReference c = controller(p);
    return c != null && "DaemonSet".equals(c.getKind());
  }

  static boolean hasEmptyDir(Pod p) {
    if (p.getSpec() == null || p.getSpec().getVolumes() == null) {
      return false;
    }
    for (Volume v : p.getSpec().getVolumes()) {
      if (v.getEmptyDir() != null) {
        return true;
      }
    }
    return false;
  }

  static OwnerReference controller(Pod p) {
    List<OwnerReference> refs = p.getMetadata().getOwnerReferences();
    if (refs == null) {
      return null;
    }
    return refs.stream()
        .filter(r -> Boolean.TRUE.equals(r.getController()))
        .findFirst()
        .orElse(null);
  }
}
