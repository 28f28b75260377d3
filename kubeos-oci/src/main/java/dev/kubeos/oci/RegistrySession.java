package dev.kubeos.oci;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.oci.http.HttpTransport;
import dev.kubeos.oci.http.TlsContexts;
import dev.kubeos.oci.model.RegistryEndpoint;
import dev.kubeos.oci.source.FetchOptions;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * What every registry operation shares: the endpoints and their failover, one {@link HttpTransport}
 * per endpoint (its hosts.toml CA, client certificate or {@code skip_verify}, else the fetch
 * options'), requests with auth, and the registry's error documents.
 */
final class RegistrySession {
  private static final ObjectMapper JSON = new ObjectMapper();

  final String registry;
  final FetchOptions fetch;
  final MirrorFailover endpoints;
  private final TokenAuth auth;
  private final Map<RegistryEndpoint, HttpTransport> transports = new HashMap<>();

  RegistrySession(
      String registry, RegistryNodeConfig config, FetchOptions fetch, RegistryOptions options) {
    this.registry = registry;
    this.fetch = fetch;
    this.endpoints = new MirrorFailover(registry, config.endpoints());
    this.auth = new TokenAuth(registry, config.docker(), options.dockerConfig(), this::transport);
  }

  /** {@code registry/repository} and the separator and reference, for messages. */
  String name(String repository, String separator, Object reference) {
    return registry + "/" + repository + separator + reference;
  }

  static String pull(String repository) {
    return "repository:" + repository + ":pull";
  }

  static String push(String repository) {
    return "repository:" + repository + ":pull,push";
  }

  /** A request to a path under an endpoint's API root, in the scope of a token. */
  record Request(
      String method,
      String path,
      String scope,
      Map<String, String> headers,
      HttpTransport.RequestBody body) {}

  /** Reads the answer to a {@link Request} on one endpoint. */
  @FunctionalInterface
  interface Answer<T> {
    T read(RegistryEndpoint ep, HttpURLConnection c) throws IOException;
  }

  /**
   * Sends {@code request} to the endpoints with {@code capability} in turn (see {@link
   * MirrorFailover}) and reads the answer.
   *
   * @param streaming the answer keeps the connection (a body stream): it is disconnected only when
   *     {@code answer} fails; otherwise always after {@code answer}
   */
  <T> T call(String capability, String what, Request request, boolean streaming, Answer<T> answer) {
    return endpoints.run(capability, what, ep -> call(ep, request, streaming, answer));
  }

  /** {@link #call(String, String, Request, boolean, Answer)} on one endpoint. */
  <T> T call(RegistryEndpoint ep, Request request, boolean streaming, Answer<T> answer)
      throws IOException {
    HttpURLConnection c =
        send(
            ep,
            request.method(),
            request.path(),
            request.scope(),
            request.headers(),
            request.body());
    boolean ok = false;
    try {
      T result = answer.read(ep, c);
      ok = true;
      return result;
    } finally {
      if (!ok || !streaming) {
        c.disconnect();
      }
    }
  }

  /** A request to {@code path} under the endpoint's API root; see {@link #sendTo}. */
  HttpURLConnection send(
      RegistryEndpoint ep,
      String method,
      String path,
      String scope,
      Map<String, String> headers,
      HttpTransport.RequestBody body)
      throws IOException {
    return sendTo(ep, URI.create(ep.api() + path), method, scope, headers, body);
  }

  /** One request with auth: a 401 is answered once (Basic or a Bearer token for the scope). */
  HttpURLConnection sendTo(
      RegistryEndpoint ep,
      URI uri,
      String method,
      String scope,
      Map<String, String> headers,
      HttpTransport.RequestBody body)
      throws IOException {
    for (int attempt = 0; ; attempt++) {
      HttpURLConnection c =
          transport(ep).exchange(uri, method, headers, auth.cached(ep, scope), body);
      if (c.getResponseCode() != 401) {
        return c;
      }
      String challenge = c.getHeaderField("WWW-Authenticate");
      c.disconnect();
      auth.answer(ep, scope, challenge, attempt > 0);
    }
  }

  synchronized HttpTransport transport(RegistryEndpoint ep) {
    return transports.computeIfAbsent(
        ep,
        e -> {
          if (e.skipVerify()) {
            return new HttpTransport(fetch, trustAll(), true);
          }
          FetchOptions f = fetch;
          if (!e.caCerts().isEmpty()) {
            f = f.withCaCert(e.caCerts().get(0));
          }
          if (e.clientCert() != null) {
            f = f.withClientCert(e.clientCert(), e.clientKey());
          }
          return new HttpTransport(f, TlsContexts.build(f).getSocketFactory(), false);
        });
  }

  private static SSLSocketFactory trustAll() {
    try {
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(
          null,
          new TrustManager[] {
            new X509TrustManager() {
              @Override
              public void checkClientTrusted(X509Certificate[] chain, String authType) {}

              @Override
              public void checkServerTrusted(X509Certificate[] chain, String authType) {}

              @Override
              public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
              }
            }
          },
          new SecureRandom());
      return ctx.getSocketFactory();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** DOWNLOAD_FAILED naming the status and the registry's own error code and message. */
  AgentException statusError(RegistryEndpoint ep, HttpURLConnection c, String what)
      throws IOException {
    int status = c.getResponseCode();
    String detail = "";
    InputStream err = c.getErrorStream();
    if (err != null) {
      try (err) {
        JsonNode json = JSON.readTree(readLimited(err, 64 << 10, "error"));
        JsonNode first = json.path("errors").path(0);
        if (first.isObject()) {
          detail = " " + first.path("code").asText("") + ": " + first.path("message").asText("");
        }
      } catch (IOException | AgentException ignored) {
        // not a registry error document
      }
    }
    String hint =
        status == 404
            ? " (check the image name, tag and registry)"
            : status >= 500 ? " (registry-side error; retry later)" : "";
    return new AgentException(
        ErrorCode.DOWNLOAD_FAILED, what + ": " + ep.host() + " answered " + status + detail + hint);
  }

  static byte[] readLimited(InputStream in, int limit, String what) throws IOException {
    try (in) {
      byte[] b = in.readNBytes(limit + 1);
      if (b.length > limit) {
        throw new AgentException(
            ErrorCode.PAYLOAD_INVALID, what + " is larger than " + limit + " bytes");
      }
      return b;
    }
  }

  List<RegistryEndpoint> endpointList() {
    return endpoints.endpoints();
  }
}
