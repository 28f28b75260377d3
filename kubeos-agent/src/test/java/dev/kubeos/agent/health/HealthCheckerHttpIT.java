package dev.kubeos.agent.health;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The health check's HTTP probe, through the agent's HTTP transport, against a real server. */
class HealthCheckerHttpIT {
  private HttpServer server;

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/ok", ex -> reply(ex, 200));
    server.createContext("/down", ex -> reply(ex, 503));
    server.createContext(
        "/moved",
        ex -> {
          ex.getResponseHeaders().add("Location", "/ok");
          reply(ex, 302);
        });
    server.start();
  }

  private static void reply(com.sun.net.httpserver.HttpExchange ex, int status) throws IOException {
    byte[] body = ("status " + status).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    ex.sendResponseHeaders(status, body.length);
    try (var out = ex.getResponseBody()) {
      out.write(body);
    }
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private HealthReport probe(String path) {
    URI url = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
    // a fixed clock: one round of checks, no waiting for a retry
    Clock clock = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);
    HealthConfig config = new HealthConfig(1, 1, List.of(new HealthConfig.Http(url)));
    return new HealthChecker(config, null, clock).run();
  }

  @Test
  void a2xxAnswerPasses() {
    assertThat(probe("/ok").passed()).isTrue();
  }

  @Test
  void anErrorStatusFailsAndIsNamed() {
    HealthReport r = probe("/down");
    assertThat(r.passed()).isFalse();
    assertThat(r.results().get(0).detail()).isEqualTo("HTTP status 503");
  }

  @Test
  void aRedirectIsAnAnswerNotFollowed() {
    HealthReport r = probe("/moved");
    assertThat(r.passed()).isFalse();
    assertThat(r.results().get(0).detail()).isEqualTo("HTTP status 302");
  }

  @Test
  void anUnreachableEndpointFailsWithTheCause() {
    server.stop(0);
    HealthReport r = probe("/ok");
    assertThat(r.passed()).isFalse();
    assertThat(r.results().get(0).detail()).contains("ConnectException");
  }
}
