package dev.kubeos.rpc;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kubeos.api.Json;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The server's limits on a real socket: slow clients, connection caps, peers, keys, batches. */
@Timeout(120)
class JsonRpcServerLimitsIT {
  private static final String STATUS =
      "{\"jsonrpc\":\"2.0\",\"method\":\"status\",\"params\":[],\"id\":7}";

  @TempDir Path dir;
  private final ObjectMapper json = Json.mapper();
  private final FakeOperations ops = new FakeOperations();
  private final List<SocketChannel> clients = new ArrayList<>();
  private JsonRpcServer server;

  @AfterEach
  void stop() throws IOException {
    ops.release.countDown();
    for (SocketChannel c : clients) {
      c.close();
    }
    if (server != null) {
      server.close();
    }
  }

  private Path start(JsonRpcServer.Limits limits) {
    Path socket = dir.resolve("run/agent.sock");
    server = new JsonRpcServer(socket, new RpcDispatcher(ops), limits);
    server.start();
    return socket;
  }

  private SocketChannel connect(Path socket) throws IOException {
    SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(socket));
    clients.add(c);
    return c;
  }

  private static void send(SocketChannel c, String text) throws IOException {
    ByteBuffer bytes = ByteBuffer.wrap(text.getBytes(UTF_8));
    while (bytes.hasRemaining()) {
      c.write(bytes);
    }
  }

  private JsonNode answer(SocketChannel c) throws IOException {
    return json.readTree(json.getFactory().createParser(Channels.newInputStream(c)));
  }

  /** A call on a fresh connection; the first JSON value answered. */
  private JsonNode call(Path socket, String request) throws IOException {
    SocketChannel c = connect(socket);
    send(c, request);
    return answer(c);
  }

  @Test
  void slowAndIdleClientsDoNotHoldUpStatus() throws IOException {
    // the audit's attack: idle connections and one-byte drips. A long deadline here, so that the
    // slow ones are provably still being served (not yet cut off) when status is answered
    Path socket = start(JsonRpcServer.Limits.defaults().withReadTimeout(Duration.ofMinutes(5)));
    for (int i = 0; i < 4; i++) {
      connect(socket);
    }
    for (int i = 0; i < 3; i++) {
      send(connect(socket), "{\"method\":\"sta");
    }
    // the slow ones are all still open (nothing read them to the end): status is answered anyway
    JsonNode status = call(socket, STATUS);

    assertThat(status.at("/result/bootedSlot").asText()).as(status.toString()).isEqualTo("A");
    assertThat(ops.received).containsExactly("status");
    for (SocketChannel slow : clients.subList(0, 7)) {
      slow.configureBlocking(false);
      assertThat(slow.read(ByteBuffer.allocate(16))).as("still open, nothing answered").isZero();
    }
  }

  @Test
  void aListeningChannelBoundElsewhereIsServedAndLeftInPlace() throws IOException {
    Path path = dir.resolve("inherited.sock");
    ServerSocketChannel listening = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    listening.bind(UnixDomainSocketAddress.of(path));
    server = new JsonRpcServer(listening, new RpcDispatcher(ops), JsonRpcServer.Limits.defaults());
    server.start();

    assertThat(call(path, STATUS).at("/result/bootedSlot").asText()).isEqualTo("A");

    server.close();
    assertThat(path).exists(); // whoever bound it owns the file
  }

  @Test
  void aDrippingRequestIsCutOffAtTheReadDeadlineWhileAnOperationMayRunLonger() throws IOException {
    Path socket = start(JsonRpcServer.Limits.defaults().withReadTimeout(Duration.ofMillis(500)));
    SocketChannel slow = connect(socket);
    send(slow, "{\"method\":\"status\"");

    JsonNode answer = answer(slow);

    assertThat(answer.at("/error/code").asInt()).isEqualTo(RpcError.INVALID_REQUEST);
    assertThat(answer.at("/error/message").asText()).startsWith("incomplete request");
    assertThat(ops.received).isEmpty();
  }

  @Test
  void aConnectionOverTheLimitGetsAClearErrorAndIsClosed() throws IOException {
    Path socket =
        start(
            JsonRpcServer.Limits.defaults()
                .withConnections(2, 2)
                .withReadTimeout(Duration.ofMinutes(5)));
    SocketChannel first = connect(socket);
    SocketChannel second = connect(socket);
    // both hold a slot until they are answered: a round trip proves the server admitted them
    send(first, STATUS);
    send(second, STATUS);
    assertThat(answer(first).has("result")).isTrue();
    assertThat(answer(second).has("result")).isTrue();

    SocketChannel third = connect(socket);
    JsonNode refused = answer(third);

    assertThat(refused.at("/error/data/code").asText()).isEqualTo("BUSY");
    assertThat(refused.at("/error/message").asText()).contains("too many connections");
    assertThat(Channels.newInputStream(third).read()).isEqualTo(-1);
  }

  @Test
  void onePeerUserCannotTakeEveryConnection() throws IOException {
    Path socket =
        start(
            JsonRpcServer.Limits.defaults()
                .withConnections(4, 1)
                .withReadTimeout(Duration.ofMinutes(5)));
    SocketChannel first = connect(socket);
    send(first, STATUS);
    assertThat(answer(first).has("result")).isTrue();

    JsonNode refused = answer(connect(socket));

    assertThat(refused.at("/error/data/code").asText()).isEqualTo("BUSY");
    assertThat(refused.at("/error/message").asText())
        .contains("too many connections from user " + System.getProperty("user.name"));
  }

  @Test
  void duplicateKeysAreAnInvalidRequestAndRunNothing() throws IOException {
    Path socket = start(JsonRpcServer.Limits.defaults());

    JsonNode answer =
        call(socket, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\",\"method\":\"upgrade\"}");

    assertThat(answer.at("/error/code").asInt()).isEqualTo(RpcError.INVALID_REQUEST);
    assertThat(answer.at("/error/data/code").asText()).isEqualTo("INVALID_REQUEST");
    assertThat(answer.at("/error/message").asText()).contains("duplicate key", "method");
    assertThat(ops.received).isEmpty();
  }

  @Test
  void aBatchOverTheBoundIsRefusedWhole() throws IOException {
    Path socket = start(JsonRpcServer.Limits.defaults());
    StringBuilder batch = new StringBuilder("[");
    for (int i = 0; i <= RpcDispatcher.DEFAULT_MAX_BATCH; i++) {
      batch.append(i == 0 ? "" : ",").append(STATUS.replace("7", String.valueOf(i)));
    }

    JsonNode answer = call(socket, batch.append(']').toString());

    assertThat(answer.at("/error/code").asInt()).isEqualTo(RpcError.INVALID_REQUEST);
    assertThat(answer.at("/error/message").asText())
        .contains("at most " + RpcDispatcher.DEFAULT_MAX_BATCH + " calls");
    assertThat(ops.received).isEmpty();
  }

  @Test
  void aPeerThatIsNeitherRootNorInTheGroupIsRefused() throws Exception {
    assumeRootWithSetpriv();
    Path socket = start(JsonRpcServer.Limits.defaults());
    openUp(socket, "rw-rw-rw-"); // so that only the peer check stands in the way

    String out = asNobody(socket);

    JsonNode answer = json.readTree(out);
    assertThat(answer.at("/error/data/code").asText()).as(out).isEqualTo("POLICY_DENIED");
    assertThat(answer.at("/error/message").asText()).contains("permission denied", "nobody");
    assertThat(ops.received).isEmpty();
  }

  @Test
  void theConfiguredGroupMayConnectThroughA0660Socket() throws Exception {
    assumeRootWithSetpriv();
    Path socket = start(JsonRpcServer.Limits.defaults().withGroup("nogroup"));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)))
        .isEqualTo("rw-rw----");
    assertThat(Files.getAttribute(socket, "unix:gid")).isEqualTo(65534);
    openUp(socket.getParent(), null); // the tempdir only: run/ is the server's 0710 directory

    String out = asNobody(socket);

    assertThat(json.readTree(out).at("/result/bootedSlot").asText()).as(out).isEqualTo("A");
    assertThat(ops.received).containsExactly("status");
  }

  private static void assumeRootWithSetpriv() {
    assumeTrue(
        "root".equals(System.getProperty("user.name")),
        "peer-credential tests need root (to run a client as nobody); skipped");
    assumeTrue(
        Files.isExecutable(Path.of("/usr/bin/setpriv")),
        "peer-credential tests need setpriv (util-linux); skipped");
  }

  /** Makes the directories above the socket traversable, and the socket mode {@code mode}. */
  private void openUp(Path socket, String mode) throws IOException {
    for (Path p = socket.getParent(); p != null && p.startsWith(dir); p = p.getParent()) {
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    if (mode != null) {
      Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString(mode));
    }
  }

  /** Runs a tiny Java client as nobody:nogroup that sends status and prints what it reads. */
  private String asNobody(Path socket) throws Exception {
    Path src = Files.createTempDirectory("peer-probe");
    Path probe = src.resolve("Probe.java");
    Files.writeString(
        probe,
        "import java.net.*; import java.nio.*; import java.nio.channels.*;\n"
            + "public class Probe { public static void main(String[] a) throws Exception {\n"
            + " try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(a[0]))) {\n"
            + "  try { c.write(ByteBuffer.wrap(a[1].getBytes())); }\n"
            + "  catch (java.io.IOException refusedBeforeWrite) { }\n"
            + "  java.io.InputStream in = Channels.newInputStream(c);\n"
            + "  try { for (int b; (b = in.read()) >= 0; ) System.out.write(b); }\n"
            + "  catch (java.io.IOException resetAfterTheAnswer) { }\n"
            + "  System.out.flush();\n"
            + "  } catch (java.io.IOException e) { System.out.print(e); } } }\n");
    Files.setPosixFilePermissions(src, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.setPosixFilePermissions(probe, PosixFilePermissions.fromString("rw-r--r--"));
    String java = ProcessHandle.current().info().command().orElse("java");
    Process p =
        new ProcessBuilder(
                "/usr/bin/setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                java,
                "-Xshare:auto",
                probe.toString(),
                socket.toString(),
                // a second value keeps the server reading after status; the close ends it
                STATUS)
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    String out;
    try (InputStream in = p.getInputStream()) {
      out = new String(in.readAllBytes(), UTF_8);
    }
    assertThat(p.waitFor(90, TimeUnit.SECONDS)).isTrue();
    assertThat(out).as("the probe's output").startsWith("{");
    return out.lines().findFirst().orElse(out);
  }
}
