package dev.kubeos.rpc;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kubeos.api.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Idle exit of a socket-activated server: the test plays systemd. It binds the listening socket,
 * hands it to a server (as {@link System#inheritedChannel()} would), and after an idle exit hands
 * the same socket to the next server, as systemd does when a connection is waiting.
 */
@Timeout(120)
class JsonRpcServerIdleExitIT {
  private static final String STATUS = "{\"jsonrpc\":\"2.0\",\"method\":\"status\",\"id\":1}";
  private static final Duration IDLE = Duration.ofMillis(200);

  @TempDir Path dir;
  private final ObjectMapper json = Json.mapper();
  private final List<SocketChannel> clients = new ArrayList<>();
  private final List<JsonRpcServer> servers = new ArrayList<>();
  private ServerSocketChannel listening;
  private Path path;

  @BeforeEach
  void bind() throws IOException {
    path = dir.resolve("agent.sock");
    listening = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    listening.bind(UnixDomainSocketAddress.of(path), 16);
  }

  @AfterEach
  void stop() throws IOException {
    for (SocketChannel c : clients) {
      c.close();
    }
    servers.forEach(JsonRpcServer::close);
    listening.close();
  }

  private JsonRpcServer activated(FakeOperations ops, Duration idle, AtomicBoolean busy)
      throws IOException {
    JsonRpcServer server =
        new JsonRpcServer(listening, new RpcDispatcher(ops), JsonRpcServer.Limits.defaults());
    server.exitWhenIdle(idle, busy::get);
    servers.add(server);
    return server;
  }

  private SocketChannel connect() {
    try {
      SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(path));
      clients.add(c);
      return c;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void send(SocketChannel c, String text) {
    try {
      ByteBuffer bytes = ByteBuffer.wrap(text.getBytes(UTF_8));
      while (bytes.hasRemaining()) {
        c.write(bytes);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private JsonNode answer(SocketChannel c) throws IOException {
    return json.readTree(json.getFactory().createParser(Channels.newInputStream(c)));
  }

  @Test
  void anIdleServerEndsAndLeavesTheListeningSocketToItsOwner() throws Exception {
    FakeOperations ops = new FakeOperations();
    JsonRpcServer server = activated(ops, IDLE, new AtomicBoolean());
    server.start();
    SocketChannel c = connect();
    send(c, STATUS);
    assertThat(answer(c).at("/result/bootedSlot").asText()).isEqualTo("A");
    c.close();

    assertThat(server.awaitEnd()).as("ended because idle").isEqualTo(JsonRpcServer.End.IDLE);
    server.close();

    assertThat(listening.isOpen()).isTrue();
    assertThat(path).exists();
    assertThat(ops.received).containsExactly("status");
  }

  @Test
  void aConnectionMadeWhileTheServerStopsIsAnsweredByTheNextOne() throws Exception {
    FakeOperations first = new FakeOperations();
    JsonRpcServer server = activated(first, IDLE, new AtomicBoolean());
    AtomicReference<SocketChannel> late = new AtomicReference<>();
    // connect (and send the whole request) exactly when the server has stopped accepting and is
    // about to decide: the connection waits in the listening socket's backlog
    server.onStoppedAccepting(
        () -> {
          if (late.get() == null) {
            SocketChannel c = connect();
            send(c, STATUS);
            late.set(c);
          }
        });
    server.start();

    assertThat(server.awaitEnd()).isEqualTo(JsonRpcServer.End.IDLE);
    server.close();
    assertThat(late.get()).as("the hook connected").isNotNull();
    assertThat(first.received).as("the stopping server took nothing").isEmpty();

    // systemd sees the waiting connection and starts the agent again on the same socket
    FakeOperations second = new FakeOperations();
    JsonRpcServer next = activated(second, IDLE, new AtomicBoolean());
    next.start();

    assertThat(answer(late.get()).at("/result/bootedSlot").asText()).isEqualTo("A");
    assertThat(second.received).containsExactly("status");
  }

  @Test
  void anOperationInProgressKeepsTheServerAliveAndIsAnswered() throws Exception {
    FakeOperations ops = new FakeOperations();
    ops.holdPrepare = true;
    JsonRpcServer server = activated(ops, IDLE, new AtomicBoolean());
    server.start();
    SocketChannel c = connect();
    send(
        c,
        "{\"jsonrpc\":\"2.0\",\"method\":\"prepare_upgrade\",\"id\":2,\"params\":"
            + "{\"version\":\"v2\",\"image_type\":\"raw\",\"image_url\":\"http://127.0.0.1/x\","
            + "\"check_sum\":\"aa\"}}");
    await().atMost(Duration.ofSeconds(60)).until(ops.preparing::get);
    // the idle period runs out again and again while the operation holds: the server stays
    await().atMost(Duration.ofSeconds(60)).until(() -> server.idleExitsPostponed() >= 3);
    assertThat(server.openConnections()).isEqualTo(1);

    ops.release.countDown();

    assertThat(answer(c).at("/result").isMissingNode()).as("answered, not dropped").isFalse();
    c.close();
    assertThat(server.awaitEnd()).isEqualTo(JsonRpcServer.End.IDLE);
  }

  @Test
  void pendingWorkKeepsTheServerAliveUntilDone() throws Exception {
    FakeOperations ops = new FakeOperations();
    AtomicBoolean busy = new AtomicBoolean(true);
    JsonRpcServer server = activated(ops, IDLE, busy);
    server.start();
    CompletableFuture<JsonRpcServer.End> ended =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return server.awaitEnd();
              } catch (InterruptedException e) {
                throw new IllegalStateException(e);
              }
            });
    await().atMost(Duration.ofSeconds(60)).until(() -> server.idleExitsPostponed() >= 3);
    SocketChannel c = connect();
    send(c, STATUS);
    assertThat(answer(c).at("/result/bootedSlot").asText()).as("still serving").isEqualTo("A");
    c.close();
    assertThat(ended).isNotDone();

    busy.set(false);

    assertThat(ended.get()).isEqualTo(JsonRpcServer.End.IDLE);
  }

  @Test
  void closingEndsTheServerWithoutAnIdleExitAndLeavesTheSocketOpen() throws Exception {
    JsonRpcServer server = activated(ops(), Duration.ofMinutes(10), new AtomicBoolean());
    server.start();

    server.close();

    assertThat(server.awaitEnd()).isEqualTo(JsonRpcServer.End.CLOSED);
    assertThat(listening.isOpen()).isTrue();
    SocketChannel c = connect(); // still listening: the next server would be handed it
    send(c, STATUS);
  }

  @Test
  void idleExitIsOnlyForAnInheritedSocket() {
    JsonRpcServer own = new JsonRpcServer(dir.resolve("own.sock"), new RpcDispatcher(ops()));
    assertThatThrownBy(() -> own.exitWhenIdle(IDLE, () -> false))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("inherited");
  }

  private static FakeOperations ops() {
    return new FakeOperations();
  }
}
