package dev.kubeos.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kubeos.agent.host.AgentOptions;
import dev.kubeos.agent.host.FileOperationLock;
import dev.kubeos.agent.host.HostAgents;
import dev.kubeos.agent.port.OperationLock;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.AgentStatus;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.api.agent.Slot;
import dev.kubeos.api.agent.SlotState;
import dev.kubeos.rpc.JsonRpcClient;
import dev.kubeos.rpc.JsonRpcServer;
import dev.kubeos.rpc.RpcDispatcher;
import dev.kubeos.testing.PayloadServer;
import dev.kubeos.testing.TestDisks;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Upstream's socket methods answered by the real agent on a real disk image. */
class AgentServiceIT {
  @TempDir Path dir;
  Path stateDir;
  PayloadServer payloads;
  JsonRpcServer server;
  Agent agent;
  JsonRpcClient client;
  byte[] v2 = AgentCrashIT.random(21, 3 << 20);
  final List<String> reboots = new CopyOnWriteArrayList<>();

  @BeforeEach
  void serve() throws IOException {
    Path disk = TestDisks.create(dir.resolve("disk.img"), 2, 32, 8);
    stateDir = dir.resolve("state");
    agent =
        HostAgents.create(
            new AgentOptions(disk, dir.resolve("esp"), stateDir, Slot.A, null, null),
            Clock.systemUTC());
    agent.init("v1", null);
    payloads = PayloadServer.http().serve("/v2.img", v2);
    AgentService service =
        new AgentService(agent, reboots::add, dir.resolve("certs"), Duration.ZERO);
    server = new JsonRpcServer(dir.resolve("run/os-agent.sock"), new RpcDispatcher(service));
    server.start();
    client = new JsonRpcClient(server.socketPath(), Duration.ofSeconds(30));
  }

  @AfterEach
  void stop() {
    server.close();
    payloads.close();
  }

  Map<String, Object> upstreamRequest(String imageType, String url, String sum) {
    return Map.of(
        "version",
        "v2",
        "check_sum",
        sum,
        "image_type",
        imageType,
        "container_image",
        "",
        "image_url",
        url,
        "flag_safe",
        true,
        "mtls",
        false,
        "certs",
        Map.of("ca_cert", "", "client_cert", "", "client_key", ""));
  }

  @Test
  void upstreamPrepareUpgradeAndUpgradeArmTheTrialAndReboot() {
    JsonNode ready =
        client.call(
            "prepare_upgrade",
            upstreamRequest("raw", payloads.url("/v2.img").toString(), SimulatedNode.sha256(v2)));
    assertThat(ready.get("status").asText()).isEqualTo("UpgradeReady");
    AgentStatus staged = client.call("status", AgentStatus.class);
    assertThat(staged.slots().get(Slot.B).state()).isEqualTo(SlotState.VERIFIED);
    assertThat(staged.slots().get(Slot.B).updatedAt()).isNotNull();

    assertThat(client.call("upgrade").get("status").asText()).isEqualTo("Upgraded");
    await().atMost(Duration.ofMinutes(1)).until(() -> reboots.size() == 1);
    AgentStatus armed = client.call("status", AgentStatus.class);
    assertThat(armed.trialSlot()).isEqualTo(Slot.B);
    assertThat(armed.nextBootSlot()).isEqualTo(Slot.B);
  }

  @Test
  void typedErrorsCrossTheSocket() {
    assertThatThrownBy(
            () ->
                client.call(
                    "prepare_upgrade",
                    upstreamRequest("raw", payloads.url("/v2.img").toString(), "00".repeat(32))))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CHECKSUM_MISMATCH));
    assertThatThrownBy(
            () -> client.call("prepare_upgrade", upstreamRequest("docker", "", "00".repeat(32))))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST))
        .hasMessageContaining("container_image is required for image_type docker");
    assertThatThrownBy(() -> client.call("upgrade"))
        .isInstanceOfSatisfying(
            AgentException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.PRECONDITION_FAILED))
        .hasMessageContaining("nothing verified is staged");
    assertThat(reboots).isEmpty();
  }

  @Test
  void fileUrlsOverTheSocketAreLimitedToTheConfiguredDirectories() throws IOException {
    Path secret = Files.write(dir.resolve("secret"), new byte[] {1, 2, 3});
    Path allowed = Files.createDirectories(dir.resolve("payloads"));
    Files.write(allowed.resolve("v2.img"), v2);
    Files.createSymbolicLink(allowed.resolve("link"), secret);
    // the default server allows no file:// at all
    assertThatThrownBy(
            () ->
                client.call(
                    "prepare_upgrade",
                    upstreamRequest("raw", secret.toUri().toString(), "00".repeat(32))))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.POLICY_DENIED))
        .hasMessageContaining("file:// image_url is refused over the socket")
        .hasMessageNotContaining("3 bytes");
    server.close();
    AgentService service =
        new AgentService(
            agent, reboots::add, dir.resolve("certs"), Duration.ZERO, List.of(allowed));
    server = new JsonRpcServer(dir.resolve("run/os-agent.sock"), new RpcDispatcher(service));
    server.start();

    for (Path outside : List.of(secret, allowed.resolve("link"), allowed.resolve("../secret"))) {
      assertThatThrownBy(
              () ->
                  client.call(
                      "prepare_upgrade",
                      upstreamRequest(
                          "raw", "file://" + outside.toAbsolutePath(), "00".repeat(32))))
          .as(outside.toString())
          .isInstanceOfSatisfying(
              AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.POLICY_DENIED));
    }
    JsonNode ready =
        client.call(
            "prepare_upgrade",
            upstreamRequest(
                "raw", allowed.resolve("v2.img").toUri().toString(), SimulatedNode.sha256(v2)));
    assertThat(ready.get("status").asText()).isEqualTo("UpgradeReady");
  }

  @Test
  void aSecondCallerIsToldTheAgentIsBusy() {
    try (OperationLock.Held held =
        new FileOperationLock(stateDir, Clock.systemUTC()).acquire("prepare_upgrade v2")) {
      assertThatThrownBy(() -> client.call("rollback"))
          .isInstanceOfSatisfying(
              AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.BUSY))
          .hasMessageContaining("prepare_upgrade v2");
      // status needs no lock and answers meanwhile
      assertThat(client.call("status", AgentStatus.class).bootedSlot()).isEqualTo(Slot.A);
    }
    assertThat(Files.exists(stateDir.resolve("agent.lock"))).isTrue();
  }
}
