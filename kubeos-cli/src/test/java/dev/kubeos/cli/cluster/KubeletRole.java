package dev.kubeos.cli.cluster;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Test code, not the product: the one part of a kubelet this e2e needs. No kubelet runs in the
 * guests (none is installable here), so the test creates each Node object and keeps its {@code
 * status.nodeInfo.osImage} and {@code bootID} current from what the guest's reporter unit prints on
 * the serial console at every boot ({@code KUBEOS-E2E-NODE bootID=... osImage=...}: PRETTY_NAME of
 * /etc/os-release and /proc/sys/kernel/random/boot_id), the way a kubelet reports them.
 */
final class KubeletRole {
  /** The reporter's line; see the image's kubeos-e2e-report script ({@link ClusterImages}). */
  static final Pattern NODE_LINE = Pattern.compile("KUBEOS-E2E-NODE bootID=(\\S+) osImage=(.+)$");

  /** What one console line reported, or null when it is not a node line. */
  record Report(String bootId, String osImage) {}

  private final KubernetesClient client;

  KubeletRole(KubernetesClient client) {
    this.client = client;
  }

  static Report parse(String consoleLine) {
    Matcher m = NODE_LINE.matcher(consoleLine);
    return m.find() ? new Report(m.group(1), m.group(2).strip()) : null;
  }

  /** Registers the Node as a kubelet would: Ready, with capacity, nothing reported yet. */
  Node register(String name) {
    return register(name, Map.of());
  }

  /** As {@link #register(String)}, with {@code labels} (a kubelet's {@code --node-labels}). */
  Node register(String name, Map<String, String> labels) {
    Node n =
        new NodeBuilder()
            .withNewMetadata()
            .withName(name)
            .addToLabels("kubernetes.io/hostname", name)
            .addToLabels(labels)
            .endMetadata()
            .withNewSpec()
            .endSpec()
            .withNewStatus()
            .addNewCondition()
            .withType("Ready")
            .withStatus("True")
            .endCondition()
            .withNewNodeInfo()
            .endNodeInfo()
            .addToAllocatable("cpu", new Quantity("2"))
            .addToAllocatable("memory", new Quantity("1536Mi"))
            .addToAllocatable("pods", new Quantity("110"))
            .endStatus()
            .build();
    return client.nodes().resource(n).create();
  }

  /** Writes the report into the Node's status (retried on a concurrent write, e.g. a cordon). */
  void report(String node, Report r) {
    for (int attempt = 1; ; attempt++) {
      try {
        client
            .nodes()
            .withName(node)
            .editStatus(
                n -> {
                  n.getStatus().getNodeInfo().setOsImage(r.osImage());
                  n.getStatus().getNodeInfo().setBootID(r.bootId());
                  return n;
                });
        return;
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409 || attempt >= 20) {
          throw e;
        }
      }
    }
  }
}
