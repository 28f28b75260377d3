package dev.kubeos.cluster.plan;

import dev.kubeos.crd.Namespaces;
import dev.kubeos.crd.OSInstance;
import dev.kubeos.crd.OSInstanceSpec;
import dev.kubeos.crd.OSInstanceStatus;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Builds the planner's {@link NodeFacts}s from Kubernetes objects (fabric8 model classes only). */
public final class NodeFactsReader {
  private static final String MIRROR = "kubernetes.io/config.mirror";

  private NodeFactsReader() {}

  /**
   * Joins nodes with the pods bound to them and their OSInstances (matched by the label {@link
   * OSInstance#NODE_LABEL}, else by name; only those in {@code osInstanceNamespace}).
   */
  public static List<NodeFacts> of(List<? extends HasMetadata> items, String osInstanceNamespace) {
    Map<String, List<PodView>> pods = new HashMap<>();
    Map<String, InstanceView> instances = new HashMap<>();
    List<Node> nodes = new ArrayList<>();
    for (HasMetadata item : items) {
      if (item instanceof Node) {
        nodes.add((Node) item);
      } else if (item instanceof Pod) {
        Pod p = (Pod) item;
        String on = p.getSpec() == null ? null : p.getSpec().getNodeName();
        if (on != null) {
          pods.computeIfAbsent(on, k -> new ArrayList<>()).add(pod(p));
        }
      } else if (item instanceof OSInstance) {
        OSInstance i = (OSInstance) item;
        if (osInstanceNamespace == null
            || osInstanceNamespace.equals(Namespaces.orDefault(i.getMetadata().getNamespace()))) {
          instances.put(i.nodeName(), instance(i));
        }
      }
    }
    List<NodeFacts> out = new ArrayList<>();
    for (Node n : nodes) {
      String name = n.getMetadata().getName();
      out.add(node(n, pods.getOrDefault(name, List.of()), instances.get(name)));
    }
    return out;
  }

  static NodeFacts node(Node n, List<PodView> pods, InstanceView instance) {
    boolean ready = false;
    String osImage = null;
    Resources allocatable = Resources.ZERO;
    if (n.getStatus() != null) {
      for (NodeCondition c : nullSafe(n.getStatus().getConditions())) {
        if ("Ready".equals(c.getType())) {
          ready = "True".equals(c.getStatus());
        }
      }
      if (n.getStatus().getNodeInfo() != null) {
        osImage = n.getStatus().getNodeInfo().getOsImage();
      }
      allocatable = resources(n.getStatus().getAllocatable());
    }
    boolean cordoned = n.getSpec() != null && Boolean.TRUE.equals(n.getSpec().getUnschedulable());
    Map<String, String> labels = n.getMetadata().getLabels();
    return new NodeFacts(
        n.getMetadata().getName(),
        labels == null ? Map.of() : labels,
        ready,
        cordoned,
        osImage,
        allocatable,
        pods,
        instance);
  }

  static PodView pod(Pod p) {
    Resources sum = Resources.ZERO;
    for (Container c : nullSafe(p.getSpec().getContainers())) {
      if (c.getResources() != null) {
        sum = sum.plus(resources(c.getResources().getRequests()));
      }
    }
    for (Container c : nullSafe(p.getSpec().getInitContainers())) {
      if (c.getResources() != null) {
        Resources init = resources(c.getResources().getRequests());
        sum =
            new Resources(
                Math.max(sum.cpuMillis(), init.cpuMillis()),
                Math.max(sum.memoryBytes(), init.memoryBytes()));
      }
    }
    boolean daemonSet = false;
    for (OwnerReference o : nullSafe(p.getMetadata().getOwnerReferences())) {
      daemonSet |= "DaemonSet".equals(o.getKind());
    }
    Map<String, String> annotations = p.getMetadata().getAnnotations();
    boolean mirror = annotations != null && annotations.containsKey(MIRROR);
    String phase = p.getStatus() == null ? null : p.getStatus().getPhase();
    boolean terminal = "Succeeded".equals(phase) || "Failed".equals(phase);
    return new PodView(
        p.getMetadata().getNamespace(),
        p.getMetadata().getName(),
        sum,
        daemonSet,
        mirror,
        terminal);
  }

  static InstanceView instance(OSInstance i) {
    OSInstanceSpec spec = i.getSpec();
    OSInstanceStatus st = i.getStatus();
    String config =
        st == null || st.getSysconfigs() == null ? null : st.getSysconfigs().getVersion();
    return new InstanceView(
        spec == null ? null : spec.getNodestatus(),
        config,
        st == null ? null : st.getPhase(),
        st == null ? null : st.getTarget(),
        st == null ? null : time(st.getStarttime()),
        st == null ? null : time(st.getEndtime()));
  }

  static Resources resources(Map<String, Quantity> q) {
    if (q == null) {
      return Resources.ZERO;
    }
    long cpu = 0;
    long mem = 0;
    if (q.get("cpu") != null) {
      cpu = q.get("cpu").getNumericalAmount().multiply(BigDecimal.valueOf(1000)).longValue();
    }
    if (q.get("memory") != null) {
      mem = q.get("memory").getNumericalAmount().longValue();
    }
    return new Resources(cpu, mem);
  }

  private static Instant time(String s) {
    if (s == null || s.isBlank()) {
      return null;
    }
    try {
      return Instant.parse(s);
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  private static <T> List<T> nullSafe(List<T> l) {
    return l == null ? List.of() : l;
  }
}
