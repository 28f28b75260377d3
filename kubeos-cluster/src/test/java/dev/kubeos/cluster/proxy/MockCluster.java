package dev.kubeos.cluster.proxy;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.net.InetAddress;
import java.util.HashMap;

/**
 * fabric8's mock API server in CRUD mode on 127.0.0.1, with the Eviction subresource, Events kept
 * apart and watches that close without stalling the server ({@link EvictionDispatcher}, {@link
 * WatchCloseOffEventLoop}). Shared by the proxy and the operator tests.
 */
public final class MockCluster implements AutoCloseable {
  final EvictionDispatcher dispatcher = new EvictionDispatcher();
  public final KubernetesMockServer server;

  public MockCluster() {
    server =
        new KubernetesMockServer(
            new Context(), new MockWebServer(), new HashMap<>(), dispatcher, false);
    server.init(InetAddress.getLoopbackAddress(), 0);
  }

  /**
   * A new client, as a new proxy process would have: no retries inside the client. The mock answers
   * in milliseconds (no watch close stalls it any more); the 60 s request timeout only bounds a
   * request on a machine loaded far beyond that, it is never waited out.
   */
  public KubernetesClient client() {
    return server.createClient(MockCluster::config);
  }

  /**
   * A client as {@code kubeos proxy} builds it: {@link #client()}'s settings and the proxy's
   * serialization ({@link ProxySerialization}), which knows the proxy's kinds only.
   */
  public KubernetesClient proxyClient() {
    return server.createClient(MockCluster::proxyConfig);
  }

  /** The client settings of {@link #proxyClient()}, for clients built with more. */
  public static io.fabric8.kubernetes.client.KubernetesClientBuilder proxyConfig(
      io.fabric8.kubernetes.client.KubernetesClientBuilder b) {
    return config(b).withKubernetesSerialization(ProxySerialization.create());
  }

  /** The client settings of {@link #client()}, for clients built with more (interceptors). */
  public static io.fabric8.kubernetes.client.KubernetesClientBuilder config(
      io.fabric8.kubernetes.client.KubernetesClientBuilder b) {
    return b.editOrNewConfig()
        .withRequestRetryBackoffLimit(0)
        .withRequestTimeout(REQUEST_TIMEOUT_MS)
        .endConfig();
  }

  static final int REQUEST_TIMEOUT_MS = 60_000;

  /**
   * Every eviction the server answered so far, in order, as {@code "namespace/pod code"} (201
   * evicted, 429 refused by a PodDisruptionBudget, 404 no such pod): for tests outside this
   * package.
   */
  public java.util.List<String> evictionAnswers() {
    return dispatcher.evictions.stream().map(e -> e.pod() + " " + e.code()).toList();
  }

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
