package dev.kubeos.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.AgentMethods;
import dev.kubeos.api.agent.AgentStatus;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.api.agent.OperationResult;
import dev.kubeos.api.agent.UpgradeRequest;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The client against a real server: typed errors, concurrency, socket ownership. */
@Timeout(20)
class JsonRpcClientIT {
  @TempDir Path dir;
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

  @Test
  void staleSocketOfACrashedDaemonIsReplaced() throws IOException {
    server.close();
    try (ServerSocketChannel crashed = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      crashed.bind(UnixDomainSocketAddress.of(socket));
    }
    assertThat(socket).exists();

    server = new JsonRpcServer(socket, new RpcDispatcher(ops));
    server.start();

    JsonRpcClient client = new JsonRpcClient(socket, Duration.ofMinutes(1));
    assertThat(client.call(AgentMethods.STATUS, AgentStatus.class))
        .isEqualTo(FakeOperations.STATUS);
  }

  @Test
  void secondServerRefusesWhileTheFirstAnswers() {
    JsonRpcServer second = new JsonRpcServer(socket, new RpcDispatcher(new FakeOperations()));

    assertThatThrownBy(second::start)
        .isInstanceOfSatisfying(
            AgentException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.PRECONDITION_FAILED))
        .hasMessageContaining("already listening on " + socket);
    second.close();
    JsonRpcClient client = new JsonRpcClient(socket, Duration.ofMinutes(1));
    assertThat(client.call(AgentMethods.UPGRADE, OperationResult.class))
        .isEqualTo(OperationResult.UPGRADED);
  }

  @Test
  void statusAnswersWhileSlowPrepareUpgradeRunsAndSecondMutationIsBusy() {
    ops.holdPrepare = true;
    JsonRpcClient client = new JsonRpcClient(socket, Duration.ofMinutes(2));
    UpgradeRequest request =
        new UpgradeRequest("v2", "ab", "raw", null, "http://h/i", true, false, null);
    CompletableFuture<OperationResult> prepare =
        CompletableFuture.supplyAsync(
            () -> client.call(AgentMethods.PREPARE_UPGRADE, OperationResult.class, request));
    await().atMost(Duration.ofMinutes(1)).untilTrue(ops.preparing);

    AgentStatus status = client.call(AgentMethods.STATUS, AgentStatus.class);
    assertThatThrownBy(() -> client.call(AgentMethods.PREPARE_UPGRADE, request))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.BUSY))
        .hasMessage("another operation is running; retry when done");

    assertThat(status).isEqualTo(FakeOperations.STATUS);
    assertThat(prepare).isNotDone();
    ops.release.countDown();
    await().atMost(Duration.ofMinutes(1)).until(prepare::isDone);
    assertThat(prepare.join()).isEqualTo(OperationResult.UPGRADE_READY);
  }

  @Test
  void clientMapsTypedErrorsAndUnknownMethods() {
    JsonRpcClient client = new JsonRpcClient(socket, Duration.ofMinutes(1));
    ops.failure = new AgentException(ErrorCode.DISK_LAYOUT, "no ROOT-B partition on /dev/vda");

    assertThatThrownBy(() -> client.call(AgentMethods.COMMIT))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.DISK_LAYOUT))
        .hasMessage("no ROOT-B partition on /dev/vda");
    assertThatThrownBy(() -> client.call("reboot_now"))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNSUPPORTED));
    assertThatThrownBy(() -> client.call(AgentMethods.UPGRADE, "unexpected"))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST))
        .hasMessageContaining("upgrade takes no parameters");
  }

  @Test
  void anErrorTheAgentAnsweredIsToldApartFromACallThatGotNoAnswer() throws Exception {
    JsonRpcClient client = new JsonRpcClient(socket, Duration.ofMinutes(1));
    ops.failure = new AgentException(ErrorCode.IO_ERROR, "the /etc merge failed");

    assertThatThrownBy(() -> client.call(AgentMethods.UPGRADE))
        .isInstanceOfSatisfying(
            AgentException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.IO_ERROR);
              assertThat(e.answered()).as("typed by the agent: it did not act").isTrue();
            })
        .hasMessage("the /etc merge failed");

    // the same code from a peer that closed the connection without answering: not known
    Path mute = dir.resolve("mute.sock");
    try (ServerSocketChannel peer = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      peer.bind(UnixDomainSocketAddress.of(mute));
      CompletableFuture<Void> hangUp =
          CompletableFuture.runAsync(
              () -> {
                try (var accepted = peer.accept()) {
                  accepted.read(java.nio.ByteBuffer.allocate(4096));
                } catch (IOException e) {
                  throw new java.io.UncheckedIOException(e);
                }
              });
      assertThatThrownBy(() -> new JsonRpcClient(mute, Duration.ofMinutes(1)).call("upgrade"))
          .isInstanceOfSatisfying(
              AgentException.class,
              e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.IO_ERROR);
                assertThat(e.answered()).isFalse();
              })
          .hasMessageContaining("closed the connection without answering upgrade");
      hangUp.get();
    }
  }

  @Test
  void clientWithoutAgentSaysSo() {
    Path nowhere = dir.resolve("none.sock");
    JsonRpcClient client = new JsonRpcClient(nowhere, Duration.ofSeconds(1));

    assertThatThrownBy(() -> client.call(AgentMethods.STATUS))
        .isInstanceOfSatisfying(
            AgentException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.IO_ERROR);
              assertThat(e.answered()).isFalse();
            })
        .hasMessage("no agent is listening on " + nowhere + ": is kubeos-agent.socket running?");
  }
}
