package dev.kubeos.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kubeos.api.Json;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.AgentStatus;
import dev.kubeos.api.agent.ConfigureRequest;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.api.agent.OperationResult;
import dev.kubeos.api.agent.Slot;
import dev.kubeos.api.agent.SlotState;
import dev.kubeos.api.agent.SlotStatus;
import dev.kubeos.api.agent.UpgradeRequest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RpcDispatcherTest {
  private final ObjectMapper json = Json.mapper();
  private final Recorder ops = new Recorder();
  private final RpcDispatcher dispatcher = new RpcDispatcher(ops);

  /** Remembers calls; throws {@link #failure} when set. */
  static class Recorder implements AgentOperations {
    final List<Object> calls = new ArrayList<>();
    AgentException failure;

    private OperationResult record(Object call, OperationResult result) {
      calls.add(call);
      if (failure != null) {
        throw failure;
      }
      return result;
    }

    @Override
    public OperationResult prepareUpgrade(UpgradeRequest request) {
      return record(request, OperationResult.UPGRADE_READY);
    }

    @Override
    public OperationResult upgrade() {
      return record("upgrade", OperationResult.UPGRADED);
    }

    @Override
    public OperationResult rollback() {
      return record("rollback", OperationResult.ROLLBACKED);
    }

    @Override
    public OperationResult configure(ConfigureRequest request) {
      return record(request, OperationResult.CONFIGURED);
    }

    @Override
    public AgentStatus status() {
      calls.add("status");
      Instant at = Instant.parse("2024-05-01T12:00:00Z");
      return new AgentStatus(
          Slot.A,
          Slot.A,
          null,
          Slot.A,
          false,
          Map.of(
              Slot.A,
              new SlotStatus("1.0", "ab", SlotState.VERIFIED, at),
              Slot.B,
              SlotStatus.empty()),
          null);
    }

    @Override
    public OperationResult commit() {
      return record("commit", new OperationResult("Committed"));
    }
  }

  private JsonNode handle(String request) throws Exception {
    return dispatcher.handle(json.readTree(request));
  }

  @Test
  void prepareUpgradeTakesUpstreamOneElementArray() throws Exception {
    JsonNode response =
        handle(
            "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"prepare_upgrade\",\"params\":[{"
                + "\"version\":\"v2\",\"check_sum\":\"abc\",\"image_type\":\"disk\","
                + "\"container_image\":\"\",\"image_url\":\"https://h/x.tar\",\"flag_safe\":true,"
                + "\"mtls\":false,\"certs\":{\"ca_cert\":\"ca.pem\",\"client_cert\":\"\","
                + "\"client_key\":\"\"}}]}");

    assertThat(response.toString())
        .isEqualTo("{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"status\":\"UpgradeReady\"}}");
    assertThat(ops.calls)
        .containsExactly(
            new UpgradeRequest(
                "v2",
                "abc",
                "disk",
                "",
                "https://h/x.tar",
                true,
                false,
                new UpgradeRequest.Certs("ca.pem", "", "")));
  }

  @Test
  void configureTakesOneElementArrayAndBareObject() throws Exception {
    String configs =
        "{\"configs\":[{\"model\":\"kernel.sysctl\",\"config_path\":\"\","
            + "\"contents\":{\"net.ipv4.ip_forward\":{\"value\":\"1\",\"operation\":\"\"}}}]}";
    JsonNode inArray =
        handle("{\"id\":\"a\",\"method\":\"configure\",\"params\":[" + configs + "]}");
    JsonNode bare = handle("{\"id\":\"b\",\"method\":\"configure\",\"params\":" + configs + "}");

    assertThat(inArray.path("result").path("status").asText()).isEqualTo("Configured");
    assertThat(bare.path("id").asText()).isEqualTo("b");
    assertThat(ops.calls).hasSize(2).allSatisfy(c -> assertThat(c).isEqualTo(ops.calls.get(0)));
    ConfigureRequest.Sysconfig sysctl = ((ConfigureRequest) ops.calls.get(0)).configs().get(0);
    assertThat(sysctl.model()).isEqualTo("kernel.sysctl");
    assertThat(sysctl.contents().get("net.ipv4.ip_forward").value().asText()).isEqualTo("1");
  }

  @Test
  void methodsWithoutParamsAcceptEmptyArrayOrNothing() throws Exception {
    assertThat(
            handle("{\"id\":1,\"method\":\"upgrade\",\"params\":[]}").at("/result/status").asText())
        .isEqualTo("Upgraded");
    assertThat(handle("{\"id\":2,\"method\":\"rollback\"}").at("/result/status").asText())
        .isEqualTo("Rollbacked");
    assertThat(
            handle("{\"id\":3,\"method\":\"commit\",\"params\":{}}").at("/result/status").asText())
        .isEqualTo("Committed");
    JsonNode status = handle("{\"id\":4,\"method\":\"status\",\"params\":null}").get("result");
    assertThat(status.path("bootedSlot").asText()).isEqualTo("A");
    assertThat(status.at("/slots/A/updatedAt").asText()).isEqualTo("2024-05-01T12:00:00Z");
    assertThat(json.treeToValue(status, AgentStatus.class)).isEqualTo(ops.status());
  }

  @Test
  void unknownMethodIsMethodNotFound() throws Exception {
    JsonNode error = handle("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"reboot\"}").get("error");

    assertThat(error.path("code").asInt()).isEqualTo(-32601);
    assertThat(error.path("message").asText()).contains("reboot").contains("prepare_upgrade");
    assertThat(error.at("/data/code").asText()).isEqualTo("UNSUPPORTED");
    assertThat(ops.calls).isEmpty();
  }

  /**
   * Upstream's agent (jsonrpc-core) answers a method it lacks, such as our {@code status}, with
   * -32601 and no {@code data}: UNSUPPORTED all the same, as our server types it.
   */
  @Test
  void anUntypedMethodNotFoundIsUnsupported() throws Exception {
    RpcError upstream =
        RpcError.fromJson(json.readTree("{\"code\":-32601,\"message\":\"Method not found\"}"));
    assertThat(upstream.errorCode()).isEqualTo(ErrorCode.UNSUPPORTED);
    assertThat(upstream.toException().code()).isEqualTo(ErrorCode.UNSUPPORTED);
    // upstream's agent types none of its errors: what it did is not known from the answer
    assertThat(upstream.toException().answered()).isFalse();
  }

  @Test
  void aCodeOnlyANewerAgentKnowsIsStillAnErrorTheAgentAnswered() throws Exception {
    RpcError newer =
        RpcError.fromJson(
            json.readTree(
                "{\"code\":-32099,\"message\":\"later\",\"data\":{\"code\":\"NOT_YET_KNOWN\"}}"));
    assertThat(newer.errorCode()).isEqualTo(ErrorCode.INTERNAL);
    assertThat(newer.toException().answered()).isTrue();
  }

  @Test
  void wrongParamShapesSayWhatWasExpected() {
    RpcError twoElements =
        dispatcher.dispatch("prepare_upgrade", json.createArrayNode().add(1).add(2)).error();
    RpcError absent = dispatcher.dispatch("configure", null).error();
    RpcError notObject =
        dispatcher.dispatch("prepare_upgrade", json.createArrayNode().add("v2")).error();
    RpcError extra = dispatcher.dispatch("upgrade", json.createArrayNode().add("now")).error();

    assertThat(twoElements.code()).isEqualTo(-32602);
    assertThat(twoElements.message())
        .contains("one-element array")
        .contains("UpgradeRequest")
        .contains("2 elements");
    assertThat(absent.message()).contains("ConfigureRequest").contains("got nothing");
    assertThat(notObject.message()).contains("got string \"v2\"");
    assertThat(extra.message()).contains("upgrade takes no parameters").contains("[\"now\"]");
    assertThat(twoElements.errorCode()).isEqualTo(ErrorCode.INVALID_REQUEST);
    assertThat(ops.calls).isEmpty();
  }

  @Test
  void fieldOfWrongTypeIsInvalidParams() throws Exception {
    JsonNode error =
        handle(
                "{\"id\":1,\"method\":\"prepare_upgrade\","
                    + "\"params\":[{\"version\":\"v2\",\"flag_safe\":{\"no\":1}}]}")
            .get("error");

    assertThat(error.path("code").asInt()).isEqualTo(-32602);
    assertThat(error.path("message").asText()).contains("UpgradeRequest");
    assertThat(ops.calls).isEmpty();
  }

  @Test
  void agentExceptionBecomesTypedError() throws Exception {
    ops.failure = new AgentException(ErrorCode.BUSY, "prepare_upgrade v2 is running");

    JsonNode response =
        handle("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"rollback\",\"params\":[]}");

    assertThat(response.toString())
        .isEqualTo(
            "{\"jsonrpc\":\"2.0\",\"id\":5,\"error\":{\"code\":-32001,"
                + "\"message\":\"prepare_upgrade v2 is running\","
                + "\"data\":{\"code\":\"BUSY\",\"action\":\"RETRY\"}}}");
    RpcError back = RpcError.fromJson(response.get("error"));
    assertThat(back.toException().code()).isEqualTo(ErrorCode.BUSY);
  }

  @Test
  void everyErrorCodeSurvivesTheRoundTrip() {
    for (ErrorCode code : ErrorCode.values()) {
      ops.failure = new AgentException(code, "failed: " + code);
      RpcError error = dispatcher.dispatch("commit", null).error();
      assertThat(error.code()).isEqualTo(code.rpcCode());
      assertThat(error.data().path("action").asText()).isEqualTo(code.action().name());
      AgentException back = RpcError.fromJson(error.toJson()).toException();
      assertThat(back.code()).isEqualTo(code);
      assertThat(back.getMessage()).isEqualTo("failed: " + code);
      assertThat(back.answered()).as("typed by our agent").isTrue();
    }
  }

  @Test
  void unexpectedExceptionIsInternal() {
    AgentOperations broken =
        new Recorder() {
          @Override
          public OperationResult upgrade() {
            throw new IllegalStateException("bug");
          }
        };
    RpcError error = new RpcDispatcher(broken).dispatch("upgrade", null).error();

    assertThat(error.code()).isEqualTo(-32603);
    assertThat(error.errorCode()).isEqualTo(ErrorCode.INTERNAL);
    assertThat(error.message()).contains("upgrade").contains("bug");
  }

  @Test
  void notificationRunsButIsNotAnswered() throws Exception {
    assertThat(handle("{\"jsonrpc\":\"2.0\",\"method\":\"commit\",\"params\":[]}")).isNull();
    assertThat(handle("{\"jsonrpc\":\"2.0\",\"method\":\"nope\"}")).isNull();
    assertThat(ops.calls).containsExactly("commit");
  }

  @Test
  void nullIdIsAnsweredWithNullId() throws Exception {
    JsonNode response = handle("{\"id\":null,\"method\":\"upgrade\"}");
    assertThat(response.get("id").isNull()).isTrue();
    assertThat(response.at("/result/status").asText()).isEqualTo("Upgraded");
  }

  @Test
  void malformedRequestsAreInvalidRequest() throws Exception {
    assertThat(handle("[]").at("/error/code").asInt()).isEqualTo(-32600);
    assertThat(handle("42").at("/error/code").asInt()).isEqualTo(-32600);
    assertThat(handle("{\"id\":1,\"method\":3}").at("/error/message").asText())
        .contains("\"method\" must be a string");
    assertThat(handle("{\"id\":{\"x\":1},\"method\":\"status\"}").at("/error/code").asInt())
        .isEqualTo(-32600);
    assertThat(
            handle("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"status\"}")
                .at("/error/code")
                .asInt())
        .isEqualTo(-32600);
    assertThat(ops.calls).isEmpty();
  }

  @Test
  void batchAnswersEachCallExceptNotifications() throws Exception {
    JsonNode responses =
        handle(
            "[{\"id\":1,\"method\":\"upgrade\"},{\"method\":\"commit\"},"
                + "{\"id\":2,\"method\":\"nope\"}]");

    assertThat(responses.isArray()).isTrue();
    assertThat(responses).hasSize(2);
    assertThat(responses.get(0).at("/result/status").asText()).isEqualTo("Upgraded");
    assertThat(responses.get(1).at("/error/code").asInt()).isEqualTo(-32601);
    assertThat(ops.calls).containsExactly("upgrade", "commit");
  }
}
