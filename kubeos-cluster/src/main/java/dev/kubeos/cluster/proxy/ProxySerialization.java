package dev.kubeos.cluster.proxy;

import dev.kubeos.crd.OS;
import dev.kubeos.crd.OSInstance;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.fabric8.kubernetes.model.jackson.Jackson2JdkTypesModule;
import java.util.List;
import tools.jackson.databind.json.JsonMapper;

/**
 * The proxy's JSON mapping: fabric8's default, minus its scan of the classpath for every kind.
 *
 * <p>fabric8's default serialization loads and instantiates every Kubernetes kind its model jars
 * list ({@code META-INF/services/...KubernetesResource}, about 690 classes) the first time it reads
 * a resource whose type is not known in advance, as a watch event's object is. The proxy is
 * resident on every node, and those classes, none of which it uses, held about 9 MiB of its 90 MiB
 * idle RSS (docs/benchmarks.md, "Agent and proxy memory (issue 14)"). This serialization knows only
 * the kinds the proxy reads and writes ({@link #KINDS}); any other kind in a response reads as a
 * {@code GenericKubernetesResource}, which fabric8 converts when a typed operation gets one. The
 * mapper is fabric8's default one otherwise (Jackson 2 defaults and its JDK types module).
 */
public final class ProxySerialization {
  /** The kinds the proxy reads and writes: its Node, its OSInstance, the OS, its Events. */
  static final List<Class<? extends KubernetesResource>> KINDS =
      List.of(Node.class, Event.class, OS.class, OSInstance.class);

  private ProxySerialization() {}

  /** A new serialization for one proxy's client. */
  public static KubernetesSerialization create() {
    KubernetesSerialization s =
        new KubernetesSerialization(
            JsonMapper.builderWithJackson2Defaults()
                .addModule(new Jackson2JdkTypesModule())
                .build(),
            false);
    KINDS.forEach(s::registerKubernetesResource);
    return s;
  }
}
