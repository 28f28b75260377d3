package dev.kubeos.oci.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.kubeos.api.agent.Action;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.oci.source.FetchOptions;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The redirect policy and Authorization handling against a real loopback server. */
class HttpTransportIT {
  private HttpServer server;
  private final List<String> authSeen = new CopyOnWriteArrayList<>();
  private final FetchOptions opts = FetchOptions.defaults().withInsecure(true);

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/",
        ex -> {
          String path = ex.getRequestURI().getPath();
          authSeen.add(path + " " + ex.getRequestHeaders().getFirst("Authorization"));
          if (path.startsWith("/loop")) {
            redirect(ex, "/loop" + (Integer.parseInt(path.substring(5)) + 1));
          } else if (path.equals("/to-ftp")) {
            redirect(ex, "ftp://127.0.0.1/x");
          } else if (path.equals("/no-location")) {
            ex.sendResponseHeaders(302, -1);
          } else if (path.equals("/hop")) {
            redirect(ex, "/target");
          } else {
            byte[] body = "ok".getBytes(StandardCharsets.US_ASCII);
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
              out.write(body);
            }
          }
          ex.close();
        });
    server.start();
  }

  private static void redirect(com.sun.net.httpserver.HttpExchange ex, String location)
      throws IOException {
    ex.getResponseHeaders().add("Location", location);
    ex.sendResponseHeaders(302, -1);
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private URI url(String path) {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
  }

  @Test
  void followsARedirectAndSendsAuthorizationToTheFirstHopOnly() throws IOException {
    HttpTransport http = HttpTransport.of(url("/hop"), opts);
    HttpURLConnection c = http.exchange(url("/hop"), "GET", Map.of(), "Bearer secret", null);
    try (InputStream in = HttpTransport.body(c, null, -1)) {
      assertThat(c.getResponseCode()).isEqualTo(200);
      assertThat(new String(in.readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo("ok");
    }
    assertThat(authSeen).containsExactly("/hop Bearer secret", "/target null");
  }

  @Test
  void tooManyRedirectsAreRefusedAndNotRetryable() {
    HttpTransport http = HttpTransport.of(url("/loop0"), opts);
    assertThatThrownBy(() -> http.exchange(url("/loop0"), "GET", Map.of(), null, null))
        .isInstanceOfSatisfying(
            AgentException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.REDIRECT_REFUSED);
              assertThat(e.code().action()).isNotEqualTo(Action.RETRY);
              assertThat(e.getMessage()).contains("more than " + HttpTransport.MAX_REDIRECTS);
            });
    assertThat(authSeen).hasSize(HttpTransport.MAX_REDIRECTS + 1);
  }

  @Test
  void aRedirectToAnotherSchemeOrWithoutLocationIsRefused() {
    HttpTransport http = HttpTransport.of(url("/to-ftp"), opts);
    assertThatThrownBy(() -> http.exchange(url("/to-ftp"), "GET", Map.of(), null, null))
        .isInstanceOfSatisfying(
            AgentException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.REDIRECT_REFUSED);
              assertThat(e.getMessage()).contains("from http to ftp");
            });
    assertThatThrownBy(() -> http.exchange(url("/no-location"), "GET", Map.of(), null, null))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.REDIRECT_REFUSED));
  }

  @Test
  void aPayloadSourceReportsARedirectLoopAsRefusedNotAsADownloadFailure() {
    HttpPayloadSource src = new HttpPayloadSource(url("/loop0"), opts);
    assertThatThrownBy(() -> src.open(0))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.REDIRECT_REFUSED));
  }
}
