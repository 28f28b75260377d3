package dev.kubeos.cluster.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubeos.crd.OSInstance;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.WatchEvent;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.junit.jupiter.api.Test;

/**
 * The proxy's serialization reads the kinds the proxy uses as their classes and every other kind as
 * a generic resource, without fabric8's scan of the classpath for every kind.
 */
class ProxySerializationTest {
  static final String NODE_EVENT =
      """
      {"type":"MODIFIED","object":{"apiVersion":"v1","kind":"Node",
       "metadata":{"name":"n1","resourceVersion":"7"},
       "status":{"nodeInfo":{"osImage":"KubeOS 2.0.0","bootID":"b-2"}}}}""";

  static final String INSTANCE_EVENT =
      """
      {"type":"ADDED","object":{"apiVersion":"upgrade.openeuler.org/v1alpha1","kind":"OSInstance",
       "metadata":{"name":"n1","namespace":"default"},"spec":{"nodestatus":"upgrade"}}}""";

  static final String DEPLOYMENT_EVENT =
      """
      {"type":"ADDED","object":{"apiVersion":"apps/v1","kind":"Deployment",
       "metadata":{"name":"web"},"spec":{"replicas":2}}}""";

  @Test
  void theProxysKindsReadAsTheirClasses() {
    KubernetesSerialization s = ProxySerialization.create();
    WatchEvent node = s.unmarshal(NODE_EVENT, WatchEvent.class);
    assertThat(node.getObject()).isInstanceOf(Node.class);
    assertThat(((Node) node.getObject()).getStatus().getNodeInfo().getOsImage())
        .isEqualTo("KubeOS 2.0.0");
    WatchEvent instance = s.unmarshal(INSTANCE_EVENT, WatchEvent.class);
    assertThat(instance.getObject()).isInstanceOf(OSInstance.class);
    assertThat(((OSInstance) instance.getObject()).getSpec().getNodestatus()).isEqualTo("upgrade");
  }

  @Test
  void anyOtherKindReadsAsAGenericResourceWithoutTheClasspathScan() {
    KubernetesSerialization s = ProxySerialization.create();
    assertThat(s.getRegisteredKubernetesResource("apps/v1", "Deployment")).isNull();
    WatchEvent e = s.unmarshal(DEPLOYMENT_EVENT, WatchEvent.class);
    assertThat(e.getObject()).isInstanceOf(GenericKubernetesResource.class);
    // fabric8's default scans the model jars and knows every kind: what the proxy leaves out
    KubernetesSerialization scanning = new KubernetesSerialization();
    assertThat(scanning.unmarshal(DEPLOYMENT_EVENT, WatchEvent.class).getObject())
        .isInstanceOf(Deployment.class);
  }
}
