package dev.kubeos.agent.settings;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kubeos.agent.Agent;
import dev.kubeos.agent.AgentService;
import dev.kubeos.agent.host.MemoryOperationLock;
import dev.kubeos.agent.state.MemoryStateStore;
import dev.kubeos.agent.trust.TrustGate;
import dev.kubeos.api.Json;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.api.agent.Slot;
import dev.kubeos.rpc.JsonRpcClient;
import dev.kubeos.rpc.JsonRpcServer;
import dev.kubeos.rpc.RpcDispatcher;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code configure} end to end: upstream's socket shape through the real JSON-RPC server. */
@Timeout(20)
class ConfigureSocketIT {
  @TempDir Path dir;
  Node node;
  JsonRpcServer server;
  JsonRpcClient client;

  @BeforeEach
  void start() throws Exception {
    node = new Node(dir);
    Agent agent =
        new Agent(
            new Agent.Deps(
                null,
                node.bootEnv,
                new MemoryStateStore(),
                new MemoryOperationLock(),
                Slot.A,
                Clock.systemUTC(),
                reason -> {},
                null,
                null,
                dir.resolve("work"),
                null,
                node.engine(),
                TrustGate.NONE,
                null));
    Path socket = dir.resolve("run/os-agent.sock");
    server =
        new JsonRpcServer(
            socket,
            new RpcDispatcher(new AgentService(agent, reason -> {}, dir, Duration.ofSeconds(60))));
    server.start();
    client = new JsonRpcClient(socket, Duration.ofSeconds(10));
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private static JsonNode params(String json) throws Exception {
    return Json.mapper().readTree(json.replace('\'', '"'));
  }

  @Test
  void upstreamShapedConfigureAppliesOnceAndRecordsADerivedVersion() throws Exception {
    JsonNode request =
        params(
            "{'configs': [{'model': 'kernel.sysctl.persist', 'config_path': '', 'contents':"
                + " {'net.ipv4.ip_forward': {'value': '1', 'operation': ''}}},"
                + "{'model': 'kubernetes.kubelet', 'contents':"
                + " {'evictionHard.\\'memory.available\\'': {'value': '300Mi'}}},"
                + "{'model': 'grub.cmdline.next', 'contents': {'nomodeset': {'value': ''}}}]}");

    JsonNode result = client.call("configure", request);

    assertThat(result).isEqualTo(params("{'status': 'Configured'}"));
    assertThat(node.read("etc/sysctl.conf")).endsWith("net.ipv4.ip_forward=1\n");
    assertThat(node.read("var/lib/kubelet/config.yaml"))
        .contains("memory.available: 300Mi   # default");
    assertThat(node.cmdlines().get(Slot.B)).isEqualTo("nomodeset");
    try (Stream<Path> records = Files.list(node.stateDir.resolve("settings/history"))) {
      assertThat(records.map(p -> p.getFileName().toString()))
          .singleElement()
          .satisfies(n -> assertThat(n).matches("000001-sha-[0-9a-f]{12}\\.json"));
    }

    Map<String, String> before = node.snapshot();
    assertThat(client.call("configure", request).path("status").asText()).isEqualTo("Configured");
    assertThat(node.snapshot()).isEqualTo(before);
  }

  @Test
  void anInvalidRequestAnswersInvalidRequestAndChangesNothing() throws Exception {
    Map<String, String> before = node.snapshot();
    JsonNode request =
        params(
            "{'version': 'v7', 'configs': [{'model': 'kernel.sysctl.persist', 'contents':"
                + " {'vm.dirty_ratio': {'value': '1'}}}, {'model': 'pam.limits', 'contents':"
                + " {'*': {'value': 'soft.nofile'}}}]}");
    assertThatThrownBy(() -> client.call("configure", request))
        .isInstanceOf(AgentException.class)
        .hasMessageContaining("pam.limits, key '*'")
        .extracting(e -> ((AgentException) e).code())
        .isEqualTo(ErrorCode.INVALID_REQUEST);
    assertThat(node.snapshot()).isEqualTo(before);
  }

  @Test
  void upstreamsLenientShapesAnswerConfiguredWithWarnings() throws Exception {
    JsonNode request =
        params(
            "{'configs': [{'model': 'kernel.sysctl', 'config_path': '', 'contents':"
                + " {'kernel.sysrq': {'value': '', 'operation': 'delete'},"
                + " 'net.ipv4.ip_forward': {'value': '1', 'operation': ''},"
                + " '': {'value': '1', 'operation': ''},"
                + " 'vm.swappiness': {'value': null, 'operation': ''}}}]}");

    JsonNode result = client.call("configure", request);

    assertThat(result.path("status").asText()).isEqualTo("Configured");
    assertThat(result.path("warnings"))
        .extracting(JsonNode::asText)
        .containsExactly(
            "settings model kernel.sysctl, key 'kernel.sysrq': operation delete is not possible"
                + " for a running kernel value, entry skipped (as upstream does)",
            "settings model kernel.sysctl: empty key, entry skipped (as upstream does)",
            "settings model kernel.sysctl, key 'vm.swappiness': no value given for update, entry"
                + " skipped (as upstream does)");
    assertThat(node.read("proc/sys/net/ipv4/ip_forward")).isEqualTo("1\n");
    assertThat(node.read("proc/sys/vm/swappiness")).isEqualTo("60\n");
  }

  @Test
  void aPolicyRefusalAnswersPolicyDeniedAndChangesNothing() throws Exception {
    node.write("proc/sys/kernel/core_pattern", "core\n");
    Map<String, String> before = node.snapshot();
    JsonNode request =
        params(
            "{'configs': [{'model': 'kernel.sysctl', 'contents':"
                + " {'kernel.core_pattern': {'value': '|/tmp/evil %p'}}}]}");
    assertThatThrownBy(() -> client.call("configure", request))
        .isInstanceOf(AgentException.class)
        .hasMessageContaining(
            "settings policy: kernel.sysctl key kernel.core_pattern is denied (rule deny-sysctl"
                + " kernel.core_pattern, ")
        .extracting(e -> ((AgentException) e).code())
        .isEqualTo(ErrorCode.POLICY_DENIED);
    assertThat(node.snapshot()).isEqualTo(before);
  }

  @Test
  void anExplicitVersionCanBeReverted() throws Exception {
    Map<String, String> before = node.snapshot();
    client.call(
        "configure",
        params(
            "{'version': 'v7', 'configs': [{'model': 'container.containerd', 'contents':"
                + " {'plugins.\\'io.containerd.grpc.v1.cri\\'.enable_cdi': {'value': true}}}]}"));
    assertThat(node.read("etc/containerd/config.toml")).contains("enable_cdi = true");
    node.engine().revert("v7", false);
    assertThat(node.snapshot()).isEqualTo(before);
  }
}
