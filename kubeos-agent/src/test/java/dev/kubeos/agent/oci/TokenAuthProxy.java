package dev.kubeos.agent.oci;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A registry front with Docker's token auth, on 127.0.0.1: {@code /token} issues bearer tokens for
 * a scope to Basic-authenticated clients; {@code /v2/...} demands a token for the repository's pull
 * scope (401 with a {@code Bearer realm=...,service=...,scope=...} challenge otherwise) and
 * forwards the request to a docker-registry.
 */
final class TokenAuthProxy implements AutoCloseable {
  private final HttpServer server;
  private final int registryPort;
  private final String basic;
  private final Map<String, String> tokens = new ConcurrentHashMap<>();
  private final AtomicInteger issued = new AtomicInteger();
  private final AtomicInteger authorized = new AtomicInteger();

  private TokenAuthProxy(int registryPort, String user, String password) throws IOException {
    this.registryPort = registryPort;
    this.basic =
        "Basic "
            + Base64.getEncoder()
                .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
    server.setExecutor(Executors.newCachedThreadPool());
    server.createContext("/token", this::token);
    server.createContext("/v2/", this::registry);
    server.start();
  }

  static TokenAuthProxy start(int registryPort, String user, String password) throws IOException {
    return new TokenAuthProxy(registryPort, user, password);
  }

  String host() {
    return "127.0.0.1:" + server.getAddress().getPort();
  }

  int tokensIssued() {
    return issued.get();
  }

  int authorizedRequests() {
    return authorized.get();
  }

  private void token(HttpExchange ex) throws IOException {
    if (!basic.equals(ex.getRequestHeaders().getFirst("Authorization"))) {
      reply(ex, 401, "{\"errors\":[{\"code\":\"UNAUTHORIZED\"}]}");
      return;
    }
    String scope = null;
    for (String kv : ex.getRequestURI().getRawQuery().split("&")) {
      if (kv.startsWith("scope=")) {
        scope = URLDecoder.decode(kv.substring(6), StandardCharsets.UTF_8);
      }
    }
    String token = UUID.randomUUID().toString();
    tokens.put(token, scope);
    issued.incrementAndGet();
    reply(ex, 200, "{\"token\":\"" + token + "\",\"expires_in\":300}");
  }

  private void registry(HttpExchange ex) throws IOException {
    String path = ex.getRequestURI().getRawPath();
    String repo = path.replaceFirst("^/v2/(.+)/(manifests|blobs)/.*$", "$1");
    String scope = "repository:" + repo + ":pull";
    String auth = ex.getRequestHeaders().getFirst("Authorization");
    String granted =
        auth != null && auth.startsWith("Bearer ") ? tokens.get(auth.substring(7)) : null;
    if (!scope.equals(granted)) {
      ex.getResponseHeaders()
          .add(
              "WWW-Authenticate",
              "Bearer realm=\"http://"
                  + host()
                  + "/token\",service=\"kubeos-test\",scope=\""
                  + scope
                  + "\"");
      reply(ex, 401, "{\"errors\":[{\"code\":\"UNAUTHORIZED\"}]}");
      return;
    }
    authorized.incrementAndGet();
    HttpURLConnection c =
        (HttpURLConnection)
            URI.create("http://127.0.0.1:" + registryPort + path).toURL().openConnection();
    c.setRequestMethod(ex.getRequestMethod());
    for (String h : List.of("Accept", "Range")) {
      String v = ex.getRequestHeaders().getFirst(h);
      if (v != null) {
        c.setRequestProperty(h, v);
      }
    }
    int status = c.getResponseCode();
    for (String h : List.of("Content-Type", "Docker-Content-Digest", "Content-Range")) {
      String v = c.getHeaderField(h);
      if (v != null) {
        ex.getResponseHeaders().add(h, v);
      }
    }
    long len = c.getContentLengthLong();
    InputStream body = status >= 400 ? c.getErrorStream() : c.getInputStream();
    boolean head = ex.getRequestMethod().equals("HEAD");
    ex.sendResponseHeaders(status, head || body == null ? -1 : len < 0 ? 0 : len);
    try (OutputStream out = ex.getResponseBody()) {
      if (!head && body != null) {
        body.transferTo(out);
      }
    } finally {
      c.disconnect();
    }
  }

  private static void reply(HttpExchange ex, int status, String json) throws IOException {
    byte[] b = json.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", "application/json");
    ex.sendResponseHeaders(status, b.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(b);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
