package dev.kubeos.cluster.plan;

import dev.kubeos.crd.OSSpec;
import dev.kubeos.crd.OpsType;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Test builders for nodes and specs. */
final class Fleet {
  static final Instant NOW = Instant.parse("2026-03-02T12:00:00Z");
  static final long GI = 1L << 30;

  private Fleet() {}

  static OSSpec upgrade(String version, int maxUnavailable) {
    OSSpec s = new OSSpec();
    s.setOpstype(OpsType.UPGRADE);
    s.setOsversion(version);
    s.setMaxunavailable(maxUnavailable);
    s.setNodeselector("all-label");
    s.setTimeinterval(0);
    return s;
  }

  static N node(String name) {
    return new N(name);
  }

  static List<NodeFacts> nodes(int count) {
    List<NodeFacts> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      out.add(node(String.format("node-%03d", i)).build());
    }
    return out;
  }

  /** A mutable node builder: ready, schedulable, on v1, idle OSInstance, 4 CPUs, 8 GiB. */
  static final class N {
    final String name;
    final Map<String, String> labels = new HashMap<>();
    boolean ready = true;
    boolean cordoned;
    String image = "v1";
    Resources allocatable = new Resources(4000, 8 * GI);
    final List<PodView> pods = new ArrayList<>();
    InstanceView instance = InstanceView.idle("c1");

    N(String name) {
      this.name = name;
    }

    N label(String k, String v) {
      labels.put(k, v);
      return this;
    }

    N controlPlane() {
      return label("node-role.kubernetes.io/control-plane", "");
    }

    N notReady() {
      ready = false;
      return this;
    }

    N cordoned() {
      cordoned = true;
      return this;
    }

    N image(String v) {
      image = v;
      return this;
    }

    N allocatable(long cpu, long mem) {
      allocatable = new Resources(cpu, mem);
      return this;
    }

    N pod(String pod, long cpu, long mem) {
      pods.add(PodView.evictable("default", pod, new Resources(cpu, mem)));
      return this;
    }

    N daemonPod(String pod, long cpu, long mem) {
      pods.add(new PodView("kube-system", pod, new Resources(cpu, mem), true, false, false));
      return this;
    }

    N instance(InstanceView i) {
      instance = i;
      return this;
    }

    N inProgress(String target, Instant started) {
      return instance(new InstanceView("upgrade", "c1", "Draining", target, started, null));
    }

    N failed(String target) {
      return instance(new InstanceView("idle", "c1", "Failed", target, NOW, NOW));
    }

    N doneAt(String target, Instant end) {
      image = target;
      return instance(new InstanceView("idle", "c1", "Done", target, end.minusSeconds(60), end));
    }

    NodeFacts build() {
      return new NodeFacts(name, labels, ready, cordoned, image, allocatable, pods, instance);
    }
  }
}
