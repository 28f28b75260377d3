package dev.kubeos.cluster.proxy;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.net.InetAddress;
import java.util.HashMap;

/** fabric8's mock API server in CRUD mode on 127.0.0.1, with the Eviction subresource. */
final class MockCluster implements AutoCloseable {
  final EvictionDispatcher dispatcher = new EvictionDispatcher();
  final KubernetesMockServer server;

  MockCluster() {
    server =
        new KubernetesMockServer(
            new Context(), new MockWebServer(), new HashMap<>(), dispatcher, false);
    server.init(InetAddress.getLoopbackAddress(), 0);
  }

  /**
   * A new client, as a new proxy process would have (no retries inside the client). The mock serves
   * every request on one thread, scanning all stored objects, so under a 200-node rollout on a
   * loaded machine a request may queue for more than fabric8's default 10 s: the timeout is 60 s,
   * as for a slow API server.
   */
  KubernetesClient client() {
    return server.createClient(
        b ->
            b.editOrNewConfig()
                .withRequestRetryBackoffLimit(0)
                .withRequestTimeout(REQUEST_TIMEOUT_MS)
                .endConfig());
  }

  static final int REQUEST_TIMEOUT_MS = 60_000;

  @Override
  public void close() {
    server.destroy();
  }
}
