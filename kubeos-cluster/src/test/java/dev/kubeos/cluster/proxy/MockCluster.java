package dev.kubeos.cluster.proxy;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.net.InetAddress;
import java.util.HashMap;

/** fabric8's mock API server in CRUD mode on 127.0.0.1, with the Eviction subresource. */
public final class MockCluster implements AutoCloseable {
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
    return client(REQUEST_TIMEOUT_MS);
  }

  /**
   * A client for the test's own observations: after watchers are dropped the mock's stalls of up to
   * 30 s each can add up past 60 s, and a test that only looks must outwait them.
   */
  KubernetesClient observer() {
    return client(OBSERVER_TIMEOUT_MS);
  }

  private KubernetesClient client(int timeoutMs) {
    return server.createClient(
        b ->
            b.editOrNewConfig()
                .withRequestRetryBackoffLimit(0)
                .withRequestTimeout(timeoutMs)
                .endConfig());
  }

  static final int REQUEST_TIMEOUT_MS = 60_000;
  static final int OBSERVER_TIMEOUT_MS = 180_000;

  @Override
  public void close() {
    destroy(server);
  }

  /**
   * Stops a mock server. Its Vert.x server gives up after 10 s when a watch connection is still
   * being torn down (seen on a loaded 2-core CI machine); that is the fixture's clean-up, not the
   * behaviour under test, so it is reported and the port is left to the JVM's exit.
   */
  public static void destroy(KubernetesMockServer server) {
    try {
      server.destroy();
    } catch (IllegalStateException e) {
      System.err.println("mock API server did not close in time, left to the JVM: " + e);
    }
  }
}
