package dev.kubeos.cluster.proxy;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.HttpURLConnection;
import java.util.HashMap;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Cordons and uncordons the proxy's node, remembering in an annotation that the proxy did it, so
 * that a node somebody else cordoned stays cordoned. Writes carry the node's resourceVersion: a
 * concurrent change (someone cordons at the same moment) makes the write fail and it is redone on
 * the fresh object.
 */
final class NodeCordon {
  /** Set together with {@code spec.unschedulable} when the proxy cordons the node. */
  static final String CORDONED_BY_PROXY = "upgrade.openeuler.org/cordoned-by-proxy";

  private final KubernetesClient client;
  private final String nodeName;

  NodeCordon(KubernetesClient client, String nodeName) {
    this.client = client;
    this.nodeName = nodeName;
  }

  /** The node, or null if it does not exist. */
  Node find() {
    return client.nodes().withName(nodeName).get();
  }

  Node node() {
    Node n = find();
    if (n == null) {
      throw new IllegalStateException(
          "node " + nodeName + " does not exist: check --node / NODE_NAME of the proxy");
    }
    return n;
  }

  /**
   * Marks the node unschedulable. Returns false (changing nothing) if it already was and not by the
   * proxy.
   */
  boolean cordon() {
    return write(
        n -> {
          if (Boolean.TRUE.equals(n.getSpec().getUnschedulable())) {
            return null; // cordoned already: by us (annotation set) or by someone else
          }
          n.getSpec().setUnschedulable(true);
          annotations(n).put(CORDONED_BY_PROXY, "true");
          return n;
        },
        true);
  }

  /** Whether the proxy's cordon is in place. */
  boolean cordonedByProxy() {
    Map<String, String> a = node().getMetadata().getAnnotations();
    return a != null && a.containsKey(CORDONED_BY_PROXY);
  }

  /** Makes the node schedulable again if, and only if, the proxy cordoned it. */
  boolean uncordon() {
    return write(
        n -> {
          if (!annotations(n).containsKey(CORDONED_BY_PROXY)) {
            return null; // not ours: leave it as it is
          }
          annotations(n).remove(CORDONED_BY_PROXY);
          n.getSpec().setUnschedulable(null);
          return n;
        },
        false);
  }

  private boolean write(UnaryOperator<Node> change, boolean cordoning) {
    for (int attempt = 0; ; attempt++) {
      Node n = node();
      Map<String, String> before = n.getMetadata().getAnnotations();
      boolean ours = before != null && before.containsKey(CORDONED_BY_PROXY);
      Node changed = change.apply(n);
      if (changed == null) {
        return cordoning && ours;
      }
      try {
        client.nodes().resource(changed).update();
        return true;
      } catch (KubernetesClientException e) {
        if (e.getCode() != HttpURLConnection.HTTP_CONFLICT || attempt >= 5) {
          throw e;
        }
      }
    }
  }

  private static Map<String, String> annotations(Node n) {
    if (n.getMetadata().getAnnotations() == null) {
      n.getMetadata().setAnnotations(new HashMap<>());
    }
    return n.getMetadata().getAnnotations();
  }
}
