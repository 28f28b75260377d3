package dev.kubeos.cluster.plan;

import dev.kubeos.crd.Labels;
import dev.kubeos.crd.OS;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Two OS resources may not act on the same nodes. Their selectors overlap when either is {@code
 * all-label} or both name the same value ({@code no-label} included); of two overlapping resources
 * the later one (creation timestamp, then namespace/name) is rejected, as upstream.
 */
public final class OsConflicts {
  private OsConflicts() {}

  /** The rejected resources ({@code namespace/name}) with a message naming the one kept. */
  public static Map<String, String> rejected(List<OS> resources) {
    List<OS> ordered = new ArrayList<>(resources);
    ordered.sort(Comparator.comparing((OS o) -> created(o)).thenComparing(OsConflicts::key));
    List<OS> accepted = new ArrayList<>();
    Map<String, String> rejected = new LinkedHashMap<>();
    for (OS os : ordered) {
      OS clash = null;
      for (OS a : accepted) {
        if (overlap(selector(a), selector(os))) {
          clash = a;
          break;
        }
      }
      if (clash == null) {
        accepted.add(os);
      } else {
        rejected.put(
            key(os),
            "spec.nodeselector '"
                + selector(os)
                + "' overlaps with OS "
                + key(clash)
                + " (nodeselector '"
                + selector(clash)
                + "', created earlier); delete one of them or give them disjoint selectors");
      }
    }
    return rejected;
  }

  /** Whether two node selectors can select the same node. */
  public static boolean overlap(String a, String b) {
    return Labels.ALL_LABEL.equals(a) || Labels.ALL_LABEL.equals(b) || a.equals(b);
  }

  private static String selector(OS os) {
    String s = os.getSpec() == null ? null : os.getSpec().getNodeselector();
    return s == null || s.isBlank() ? Labels.NO_LABEL : s.trim();
  }

  private static String created(OS os) {
    String t = os.getMetadata() == null ? null : os.getMetadata().getCreationTimestamp();
    // RFC 3339 UTC timestamps as the API server writes them sort as text; missing ones last
    return t == null ? "~" : t;
  }

  private static String key(OS os) {
    return os.key();
  }
}
