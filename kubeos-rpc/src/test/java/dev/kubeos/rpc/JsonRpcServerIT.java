package dev.kubeos.rpc;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kubeos.api.Json;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.UpgradeRequest;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(20)
class JsonRpcServerIT {
  private static final String STATUS_REQUEST =
      "{\"method\":\"status\",\"params\":[],\"id\":1,\"jsonrpc\":\"2.0\"}";

  @TempDir Path dir;
  private final ObjectMapper json = Json.mapper();
  private final FakeOperations ops = new FakeOperations();
  private Path socket;
  private JsonRpcServer server;

  @BeforeEach
  void start() {
    socket = dir.resolve("run/os-agent/os-agent.sock");
    server = new JsonRpcServer(socket, new RpcDispatcher(ops));
    server.start();
  }

  @AfterEach
  void stop() {
    ops.release.countDown();
    server.close();
  }

  /** A raw connection, as upstream's proxy makes it: write bytes, read JSON values back. */
  private final class Raw implements AutoCloseable {
    final SocketChannel channel;
    private JsonParser in;

    Raw(Path path) throws IOException {
      channel = SocketChannel.open(UnixDomainSocketAddress.of(path));
    }

    /** Created on first read: Jackson reads ahead to detect the encoding. */
    private JsonParser in() throws IOException {
      if (in == null) {
        in = json.getFactory().createParser(Channels.newInputStream(channel));
      }
      return in;
    }

    void send(String text) throws IOException {
      ByteBuffer bytes = ByteBuffer.wrap(text.getBytes(UTF_8));
      while (bytes.hasRemaining()) {
        channel.write(bytes);
      }
    }

    /** The next JSON value from the server, or null at end of stream. */
    JsonNode answer() throws IOException {
      return json.readTree(in());
    }

    /** True when the server closed its end (EOF, or a reset after unread input). */
    boolean closedByServer() {
      try {
        return json.readTree(in()) == null;
      } catch (IOException reset) {
        return true;
      }
    }

    @Override
    public void close() throws IOException {
      channel.close();
    }
  }

  @Test
  void upstreamFramingBareObjectWithoutNewlineIsAnsweredOnOpenConnection() throws IOException {
    try (Raw raw = new Raw(socket)) {
      raw.send(
          "{\"method\":\"prepare_upgrade\",\"params\":[{\"version\":\"v2\",\"check_sum\":\"ab\","
              + "\"image_type\":\"disk\",\"container_image\":\"\",\"image_url\":\"https://x/r.tar\","
              + "\"flag_safe\":false,\"mtls\":false,\"certs\":{\"ca_cert\":\"\",\"client_cert\":\"\","
              + "\"client_key\":\"\"}}],\"id\":1,\"jsonrpc\":\"2.0\"}");

      JsonNode answer = raw.answer();

      assertThat(answer.toString())
          .isEqualTo("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"status\":\"UpgradeReady\"}}");
      assertThat(ops.received).hasSize(1);
      assertThat(((UpgradeRequest) ops.received.get(0)).imageUrl()).isEqualTo("https://x/r.tar");
      assertThat(raw.channel.isOpen()).isTrue();
    }
  }

  @Test
  void requestSplitIntoSingleBytesWithPauses() throws Exception {
    try (Raw raw = new Raw(socket)) {
      for (byte b : STATUS_REQUEST.getBytes(UTF_8)) {
        raw.channel.write(ByteBuffer.wrap(new byte[] {b}));
        Thread.sleep(1);
      }
      assertThat(raw.answer().at("/result/bootedSlot").asText()).isEqualTo("A");
    }
  }

  @Test
  void newlineFramingAndBackToBackRequestsOnOneConnection() throws IOException {
    try (Raw raw = new Raw(socket)) {
      raw.send(
          "{\"id\":1,\"method\":\"upgrade\",\"params\":[]}\n"
              + "{\"id\":2,\"method\":\"status\"}{\"id\":3,\"method\":\"rollback\",\"params\":[]}\n");

      assertThat(raw.answer().at("/result/status").asText()).isEqualTo("Upgraded");
      assertThat(raw.answer().at("/id").asInt()).isEqualTo(2);
      JsonNode third = raw.answer();
      assertThat(third.at("/id").asInt()).isEqualTo(3);
      assertThat(third.at("/result/status").asText()).isEqualTo("Rollbacked");
      assertThat(ops.received).containsExactly("upgrade", "status", "rollback");
    }
  }

  @Test
  void bracesAndEscapedQuotesInsideStringsDoNotEndTheRequest() throws IOException {
    String tricky = "v}2\"]{\\";
    try (Raw raw = new Raw(socket)) {
      raw.send(
          "{\"id\":\"}\",\"method\":\"prepare_upgrade\",\"params\":[{\"version\":"
              + json.writeValueAsString(tricky)
              + ",\"image_url\":\"http://h/}}}\"}]}");

      JsonNode answer = raw.answer();

      assertThat(answer.path("id").asText()).isEqualTo("}");
      assertThat(((UpgradeRequest) ops.received.get(0)).version()).isEqualTo(tricky);
      assertThat(((UpgradeRequest) ops.received.get(0)).imageUrl()).isEqualTo("http://h/}}}");
    }
  }

  @Test
  void notificationGetsNoAnswer() throws IOException {
    try (Raw raw = new Raw(socket)) {
      raw.send("{\"jsonrpc\":\"2.0\",\"method\":\"commit\"}" + STATUS_REQUEST);

      assertThat(raw.answer().path("id").asInt()).isEqualTo(1);
      assertThat(ops.received).containsExactly("commit", "status");
    }
  }

  @Test
  void malformedJsonIsParseErrorAndEndsTheConnection() throws IOException {
    try (Raw raw = new Raw(socket)) {
      raw.send("{\"id\":1,\"method\":\"status\",]");

      JsonNode answer = raw.answer();

      assertThat(answer.at("/error/code").asInt()).isEqualTo(-32700);
      assertThat(answer.get("id").isNull()).isTrue();
      assertThat(answer.at("/error/message").asText())
          .startsWith("not valid JSON at byte 27 of the request: Unexpected close marker");
      assertThat(raw.closedByServer()).isTrue();
    }
  }

  @Test
  void socketIsOwnerOnlyInsideOwnerOnlyDirectory() throws IOException {
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)))
        .isEqualTo("rw-------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket.getParent())))
        .isEqualTo("rwx------");
    try (var entries = Files.list(socket.getParent())) {
      assertThat(entries).containsExactly(socket);
    }
  }

  @Test
  void closeRemovesTheSocketFile() {
    server.close();
    assertThat(socket).doesNotExist();
  }

  @Test
  void fileThatIsNotASocketIsNeverDeleted() throws IOException {
    Path file = dir.resolve("not-a-socket");
    Files.writeString(file, "precious");
    JsonRpcServer other = new JsonRpcServer(file, new RpcDispatcher(ops));

    assertThatThrownBy(other::start)
        .isInstanceOf(AgentException.class)
        .hasMessageContaining("is not a socket");
    assertThat(file).hasContent("precious");
  }

  @Test
  void oversizeRequestIsRejectedAndConnectionClosed() throws IOException {
    try (Raw raw = new Raw(socket)) {
      String big =
          "{\"id\":1,\"method\":\"prepare_upgrade\",\"params\":[{\"version\":\""
              + "x".repeat(2 * JsonRpcServer.MAX_REQUEST_BYTES)
              + "\"}]}";
      CompletableFuture<Void> writer =
          CompletableFuture.runAsync(
              () -> {
                try {
                  raw.send(big);
                } catch (IOException expectedOnceTheServerCloses) {
                  // the server stops reading after 1 MiB
                }
              });

      JsonNode answer = raw.answer();

      assertThat(answer.at("/error/code").asInt()).isEqualTo(-32600);
      assertThat(answer.at("/error/message").asText())
          .contains("larger than " + JsonRpcServer.MAX_REQUEST_BYTES + " bytes");
      assertThat(raw.closedByServer()).isTrue();
      await().atMost(Duration.ofMinutes(1)).until(writer::isDone);
      assertThat(ops.received).isEmpty();
    }
  }

  @Test
  void halfSentRequestTimesOut() throws IOException {
    Path other = dir.resolve("short/agent.sock");
    try (JsonRpcServer quick =
        new JsonRpcServer(
            other,
            new RpcDispatcher(ops),
            JsonRpcServer.Limits.defaults().withReadTimeout(Duration.ofMillis(300)))) {
      quick.start();
      try (Raw raw = new Raw(other)) {
        raw.send("{\"id\":1,\"method\":\"sta");

        JsonNode answer = raw.answer();

        assertThat(answer.at("/error/code").asInt()).isEqualTo(-32600);
        assertThat(answer.at("/error/message").asText()).startsWith("incomplete request");
        assertThat(raw.closedByServer()).isTrue();
      }
    }
  }
}
