package dev.kubeos.cluster.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kubeos.api.Json;
import dev.kubeos.api.agent.Action;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.AgentStatus;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.api.agent.Slot;
import dev.kubeos.api.agent.SlotState;
import dev.kubeos.api.agent.SlotStatus;
import dev.kubeos.cluster.plan.UpstreamExamples;
import dev.kubeos.cluster.proxy.model.CommitCheck;
import dev.kubeos.crd.OSSpec;
import dev.kubeos.crd.OpsType;
import dev.kubeos.rpc.JsonRpcClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.LongFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The proxy speaks to an agent that behaves on the socket as upstream's Rust os-agent does
 * (jsonrpc-core over an IPC socket): it finds the end of the request by parsing it, answers one
 * JSON value followed by a newline, and fails every operation with code -1 and a bare message. Each
 * of upstream's example resources is carried by the proxy's request mapping and checked against the
 * members upstream's agent requires ({@code KubeOS-Rust/manager/src/api/types.rs}: every member
 * present, strings never null).
 */
class UpstreamWireIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Set<String> UPGRADE_MEMBERS =
      Set.of(
          "version",
          "check_sum",
          "image_type",
          "container_image",
          "image_url",
          "flag_safe",
          "mtls",
          "certs");

  @TempDir Path dir;
  UpstreamAgent agent;

  @AfterEach
  void stop() throws IOException {
    if (agent != null) {
      agent.close();
    }
  }

  static List<String> examples() {
    return UpstreamExamples.FILES;
  }

  @ParameterizedTest
  @MethodSource("examples")
  void everyExampleReachesUpstreamsAgentWithEveryMemberItRequires(String file) throws Exception {
    agent = UpstreamAgent.answering(dir.resolve("os-agent.sock"), UpstreamWireIT::ok);
    SocketAgentClient client =
        new SocketAgentClient(new JsonRpcClient(agent.path, Duration.ofSeconds(30)));
    OSSpec spec = UpstreamExamples.load(file).getSpec();

    List<String> expected = new ArrayList<>();
    if (spec.getOpstype() == OpsType.UPGRADE) {
      if (AgentRequests.hasConfigs(spec.getUpgradeconfigs())) {
        client.configure(AgentRequests.configure(spec.getUpgradeconfigs()));
        expected.add("configure");
      }
      client.prepareUpgrade(AgentRequests.upgrade(spec));
      client.upgrade();
      expected.add("prepare_upgrade");
      expected.add("upgrade");
    } else if (spec.getOpstype() == OpsType.ROLLBACK) {
      client.rollback();
      expected.add("rollback");
    }
    if (AgentRequests.hasConfigs(spec.getSysconfigs())) {
      client.configure(AgentRequests.configure(spec.getSysconfigs()));
      expected.add("configure");
    }
    assertThat(expected).as("%s makes the proxy call the agent", file).isNotEmpty();

    assertThat(agent.requests).extracting(r -> r.path("method").asText()).isEqualTo(expected);
    for (JsonNode request : agent.requests) {
      assertJsonRpcRequest(request);
      JsonNode params = request.get("params");
      switch (request.get("method").asText()) {
        case "prepare_upgrade" -> assertUpgradeRequest(params.get(0), spec);
        case "configure" -> assertConfigureRequest(params.get(0));
        default -> assertThat(params).as("upgrade and rollback take no parameter").isEmpty();
      }
    }
  }

  @Test
  void upstreamsBusyAnswerIsRetriedNotFatal() throws Exception {
    agent =
        UpstreamAgent.answering(
            dir.resolve("os-agent.sock"),
            id ->
                "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-1,\"message\":"
                    + "\"os-agent is processing another request\"},\"id\":"
                    + id
                    + "}\n");
    SocketAgentClient client =
        new SocketAgentClient(new JsonRpcClient(agent.path, Duration.ofSeconds(30)));
    assertThatThrownBy(
            () ->
                client.prepareUpgrade(
                    AgentRequests.upgrade(UpstreamExamples.load("upgrade-docker.yaml").getSpec())))
        .isInstanceOfSatisfying(
            AgentException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.BUSY);
              assertThat(e.code().action()).isEqualTo(Action.RETRY);
            })
        .hasMessageContaining("os-agent is processing another request");
  }

  @Test
  void upstreamsOtherOperationErrorsAreTransientToo() throws Exception {
    agent =
        UpstreamAgent.answering(
            dir.resolve("os-agent.sock"),
            id ->
                "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-1,\"message\":"
                    + "\"Failed to download image\"},\"id\":"
                    + id
                    + "}\n");
    SocketAgentClient client =
        new SocketAgentClient(new JsonRpcClient(agent.path, Duration.ofSeconds(30)));
    assertThatThrownBy(client::upgrade)
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code().action()).isEqualTo(Action.RETRY))
        .hasMessageContaining("Failed to download image");
  }

  /**
   * Upstream's agent has no {@code status} (jsonrpc-core answers "method not found", -32601,
   * without {@code data}): the client reads it as UNSUPPORTED, which the proxy takes for an agent
   * without boot-once trials (nothing to confirm after the reboot), not for an agent it cannot
   * reach.
   */
  @Test
  void upstreamsAgentHasNoStatusMethod() throws Exception {
    agent =
        UpstreamAgent.answering(
            dir.resolve("os-agent.sock"),
            id ->
                "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32601,\"message\":"
                    + "\"Method not found\"},\"id\":"
                    + id
                    + "}\n");
    SocketAgentClient client = SocketAgentClient.lazy(agent.path, Duration.ofSeconds(30));
    assertThatThrownBy(client::status)
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNSUPPORTED))
        .hasMessageContaining("Method not found");
    assertThat(agent.requests).extracting(r -> r.path("method").asText()).containsExactly("status");
  }

  /**
   * {@code status} as the first call of the proxy's lazy client, as after the reboot (a new proxy
   * process asks the agent before anything else): the status is read whole, trial and slots.
   */
  @Test
  void statusMayBeTheFirstCallOfALazyClient() throws Exception {
    AgentStatus trial =
        new AgentStatus(
            Slot.B,
            Slot.A,
            Slot.B,
            Slot.A,
            true,
            Map.of(
                Slot.A,
                new SlotStatus("1.0.0", null, SlotState.VERIFIED, Instant.EPOCH),
                Slot.B,
                new SlotStatus("KubeOS 2.0.0", "ab".repeat(32), SlotState.VERIFIED, Instant.EPOCH)),
            null);
    String result = Json.mapper().writeValueAsString(trial);
    agent =
        UpstreamAgent.answering(
            dir.resolve("os-agent.sock"),
            id -> "{\"jsonrpc\":\"2.0\",\"result\":" + result + ",\"id\":" + id + "}\n");
    SocketAgentClient client = SocketAgentClient.lazy(agent.path, Duration.ofSeconds(30));

    AgentStatus read = client.status();

    assertThat(read).isEqualTo(trial);
    assertThat(CommitCheck.of(read, "KubeOS 2.0.0").verdict())
        .isEqualTo(CommitCheck.Verdict.NOT_COMMITTED);
  }

  static String ok(long id) {
    return "{\"jsonrpc\":\"2.0\",\"result\":{\"status\":\"UpgradeReady\"},\"id\":" + id + "}\n";
  }

  static void assertJsonRpcRequest(JsonNode request) {
    assertThat(request.path("jsonrpc").asText()).isEqualTo("2.0");
    assertThat(request.path("id").isIntegralNumber()).as("id %s", request.get("id")).isTrue();
    assertThat(request.path("params").isArray()).isTrue();
    assertThat(request.path("params").size()).isLessThanOrEqualTo(1);
  }

  static void assertUpgradeRequest(JsonNode p, OSSpec spec) {
    assertThat(names(p)).containsAll(UPGRADE_MEMBERS);
    for (String s : List.of("version", "check_sum", "image_type", "container_image", "image_url")) {
      assertThat(p.get(s).isTextual()).as("%s is a string in %s", s, p).isTrue();
    }
    assertThat(p.get("flag_safe").isBoolean()).isTrue();
    assertThat(p.get("mtls").isBoolean()).isTrue();
    JsonNode certs = p.get("certs");
    assertThat(names(certs)).containsAll(Set.of("ca_cert", "client_cert", "client_key"));
    certs.forEach(c -> assertThat(c.isTextual()).as("certs member %s", c).isTrue());
    assertThat(p.get("version").asText()).isEqualTo(spec.getOsversion());
    assertThat(p.get("mtls").asBoolean()).isEqualTo(spec.isMtls());
    assertThat(p.get("flag_safe").asBoolean()).isEqualTo(spec.isFlagSafe());
    assertThat(certs.get("client_key").asText())
        .isEqualTo(spec.getClientkey() == null ? "" : spec.getClientkey());
  }

  static void assertConfigureRequest(JsonNode p) {
    assertThat(p.get("configs").isArray()).isTrue();
    assertThat(p.get("configs")).isNotEmpty();
    for (JsonNode config : p.get("configs")) {
      assertThat(names(config)).containsAll(Set.of("model", "config_path", "contents"));
      assertThat(config.get("model").isTextual()).isTrue();
      assertThat(config.get("config_path").isTextual()).as("config_path in %s", config).isTrue();
      assertThat(config.get("contents").isObject()).isTrue();
      config
          .get("contents")
          .forEach(
              info -> {
                assertThat(names(info)).as("key info %s", info).contains("value", "operation");
                assertThat(info.get("operation").isTextual()).isTrue();
              });
    }
  }

  static Set<String> names(JsonNode object) {
    Set<String> out = new TreeSet<>();
    object.fieldNames().forEachRemaining(out::add);
    return out;
  }

  /**
   * A socket peer that frames as upstream's agent: reads until the bytes parse as one JSON object
   * (no newline, no EOF from the caller), answers {@code answer(id)}, then closes.
   */
  static final class UpstreamAgent implements AutoCloseable {
    final Path path;
    final List<JsonNode> requests = new CopyOnWriteArrayList<>();
    final ServerSocketChannel server;
    final Thread thread;

    private UpstreamAgent(Path path, LongFunction<String> answer) throws IOException {
      this.path = path;
      this.server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
      server.bind(UnixDomainSocketAddress.of(path));
      this.thread = new Thread(() -> serve(answer), "upstream-agent");
      thread.setDaemon(true);
      thread.start();
    }

    static UpstreamAgent answering(Path path, LongFunction<String> answer) throws IOException {
      return new UpstreamAgent(path, answer);
    }

    private void serve(LongFunction<String> answer) {
      while (server.isOpen()) {
        try (SocketChannel ch = server.accept()) {
          JsonNode request = readOneValue(ch);
          requests.add(request);
          ch.write(
              ByteBuffer.wrap(
                  answer.apply(request.path("id").asLong()).getBytes(StandardCharsets.UTF_8)));
        } catch (IOException e) {
          return; // closed
        }
      }
    }

    private static JsonNode readOneValue(SocketChannel ch) throws IOException {
      ByteArrayOutputStream seen = new ByteArrayOutputStream();
      ByteBuffer buf = ByteBuffer.allocate(4096);
      while (true) {
        buf.clear();
        int n = ch.read(buf);
        if (n < 0) {
          throw new IOException("caller closed before a complete request: " + seen);
        }
        seen.write(buf.array(), 0, n);
        try {
          Iterator<JsonNode> values = JSON.readerFor(JsonNode.class).readValues(seen.toByteArray());
          if (values.hasNext()) {
            JsonNode v = values.next();
            if (v != null && v.isObject()) {
              return v;
            }
          }
        } catch (RuntimeException | IOException incomplete) {
          // not a whole value yet: read more
        }
      }
    }

    @Override
    public void close() throws IOException {
      server.close();
    }
  }
}
