package dev.kubeos.cluster.operator;

import dev.kubeos.crd.OS;
import dev.kubeos.crd.OSInstance;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The operator's view of the cluster: one fabric8 informer per kind (OS, Node, Pod, OSInstance),
 * plus the operator's own writes that the informers have not delivered yet. Without that overlay a
 * reconcile right after a start would still see the started nodes idle and start more than {@code
 * maxunavailable}.
 */
public final class ClusterCache implements AutoCloseable {
  private final List<SharedIndexInformer<?>> informers = new ArrayList<>();
  private final SharedIndexInformer<OS> os;
  private final SharedIndexInformer<Node> nodes;
  private final SharedIndexInformer<Pod> pods;
  private final SharedIndexInformer<OSInstance> instances;

  /** key -> {resourceVersions our write superseded, object returned by our write}. */
  private final Map<String, Pending<?>> pending = new ConcurrentHashMap<>();

  private record Pending<T extends HasMetadata>(Set<String> superseded, T written) {}

  /**
   * Starts the informers and waits until each has listed.
   *
   * @param namespace namespace of the OS resources to act on, {@code null} for all
   * @param onChange called on every add, update and delete
   */
  public ClusterCache(KubernetesClient client, String namespace, Runnable onChange) {
    ResourceEventHandler<HasMetadata> h =
        new ResourceEventHandler<>() {
          @Override
          public void onAdd(HasMetadata obj) {
            onChange.run();
          }

          @Override
          public void onUpdate(HasMetadata oldObj, HasMetadata newObj) {
            if (!oldObj
                .getMetadata()
                .getResourceVersion()
                .equals(newObj.getMetadata().getResourceVersion())) {
              onChange.run();
            }
          }

          @Override
          public void onDelete(HasMetadata obj, boolean deletedFinalStateUnknown) {
            onChange.run();
          }
        };
    long resync = 0; // the reconcile loop has its own periodic pass
    var osOps = client.resources(OS.class);
    os =
        add(
            namespace == null
                ? osOps.inAnyNamespace().inform(h, resync)
                : osOps.inNamespace(namespace).inform(h, resync));
    nodes = add(client.nodes().inform(h, resync));
    pods = add(client.pods().inAnyNamespace().inform(h, resync));
    instances = add(client.resources(OSInstance.class).inAnyNamespace().inform(h, resync));
  }

  private <T> SharedIndexInformer<T> add(SharedIndexInformer<T> i) {
    informers.add(i);
    return i;
  }

  public List<OS> osResources() {
    return os.getStore().list();
  }

  /** Nodes, pods and OSInstances, each OSInstance or node replaced by our newer write. */
  public List<HasMetadata> clusterItems() {
    List<HasMetadata> items = new ArrayList<>();
    nodes.getStore().list().forEach(n -> items.add(fresh(n)));
    items.addAll(pods.getStore().list());
    instances.getStore().list().forEach(i -> items.add(fresh(i)));
    return items;
  }

  /** The node as last seen (our own write included), or {@code null}. */
  public Node node(String name) {
    Node n = nodes.getStore().getByKey(name);
    return n == null ? null : fresh(n);
  }

  /** Remembers an object returned by a write until the informer delivers that version. */
  public <T extends HasMetadata> void wrote(T cachedBefore, T written) {
    String before = cachedBefore.getMetadata().getResourceVersion();
    pending.compute(
        key(written),
        (k, old) -> {
          Set<String> superseded = new HashSet<>(Set.of(before));
          if (old != null && before.equals(old.written().getMetadata().getResourceVersion())) {
            superseded.addAll(old.superseded()); // a second write before the first arrived
          }
          return new Pending<>(superseded, written);
        });
  }

  @SuppressWarnings("unchecked")
  private <T extends HasMetadata> T fresh(T cached) {
    String k = key(cached);
    Pending<?> p = pending.get(k);
    if (p == null) {
      return cached;
    }
    if (p.superseded().contains(cached.getMetadata().getResourceVersion())) {
      return (T) p.written(); // the informer has not caught up with our write yet
    }
    pending.remove(k, p); // the cache holds our write or something newer
    return cached;
  }

  private static String key(HasMetadata o) {
    return o.getKind() + "/" + o.getMetadata().getNamespace() + "/" + o.getMetadata().getName();
  }

  @Override
  public void close() {
    informers.forEach(SharedIndexInformer::stop);
  }
}
