package dev.kubeos.cluster.plan;

import dev.kubeos.crd.Labels;
import java.util.List;
import java.util.Map;

/**
 * One node as the planner sees it: labels, readiness, cordon, the OS image it runs, allocatable
 * resources, the pods bound to it, and its OSInstance ({@code null} when the node has none yet).
 */
public record NodeFacts(
    String name,
    Map<String, String> labels,
    boolean ready,
    boolean unschedulable,
    String osImage,
    Resources allocatable,
    List<PodView> pods,
    InstanceView instance) {

  public NodeFacts {
    labels = Map.copyOf(labels);
    pods = List.copyOf(pods);
  }

  /** Whether the node carries a control-plane role label. */
  public boolean controlPlane() {
    return labels.containsKey(Labels.CONTROL_PLANE) || labels.containsKey(Labels.MASTER);
  }

  /** Sum of the requests of the pods that still occupy the node. */
  public Resources requested() {
    Resources sum = Resources.ZERO;
    for (PodView p : pods) {
      if (!p.terminal()) {
        sum = sum.plus(p.requests());
      }
    }
    return sum;
  }

  public NodeFacts withInstance(InstanceView i) {
    return new NodeFacts(name, labels, ready, unschedulable, osImage, allocatable, pods, i);
  }

  public NodeFacts withOsImage(String image) {
    return new NodeFacts(name, labels, ready, unschedulable, image, allocatable, pods, instance);
  }
}
