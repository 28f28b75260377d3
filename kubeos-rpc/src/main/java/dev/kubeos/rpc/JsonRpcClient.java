package dev.kubeos.rpc;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubeos.api.Json;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Calls the agent over its Unix socket the way upstream KubeOS's proxy does: one connection per
 * call, one bare JSON object without newline, one JSON value read back. Errors come back as {@link
 * AgentException} with the agent's {@link ErrorCode}. Thread-safe.
 */
public final class JsonRpcClient {
  private static final AtomicLong IDS = new AtomicLong();
  private static final long MAX_ANSWER_BYTES = 16L << 20;

  private final Path socketPath;
  private final Duration timeout;
  private final ObjectMapper mapper = Json.mapper();

  /**
   * @param timeout longest wait for the answer of one call (prepare_upgrade may take minutes)
   */
  public JsonRpcClient(Path socketPath, Duration timeout) {
    this.socketPath = Objects.requireNonNull(socketPath, "socketPath");
    this.timeout = Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive, got " + timeout);
    }
  }

  public Path socketPath() {
    return socketPath;
  }

  /**
   * Calls {@code method} with positional params (each converted to JSON; none sends {@code []}).
   *
   * @return the {@code result} member of the answer
   * @throws AgentException the agent's typed error, or IO_ERROR when it cannot be reached
   */
  public JsonNode call(String method, Object... params) {
    ArrayNode array = mapper.createArrayNode();
    for (Object p : params) {
      array.add(mapper.valueToTree(p));
    }
    long id = IDS.incrementAndGet();
    ObjectNode request = mapper.createObjectNode();
    request.put("jsonrpc", "2.0");
    request.put("method", method);
    request.set("params", array);
    request.put("id", id);
    JsonNode response = exchange(method, request);
    if (!response.isObject()) {
      throw new AgentException(
          ErrorCode.INTERNAL, "agent answered " + method + " with a non-object: " + response);
    }
    JsonNode error = response.get("error");
    if (error != null && !error.isNull()) {
      throw RpcError.fromJson(error).toException();
    }
    if (!response.path("id").isIntegralNumber() || response.path("id").asLong() != id) {
      throw new AgentException(
          ErrorCode.INTERNAL,
          "agent answered request id " + id + " with id " + response.get("id") + ": not ours");
    }
    if (!response.has("result")) {
      throw new AgentException(
          ErrorCode.INTERNAL, "agent answered " + method + " with neither result nor error");
    }
    return response.get("result");
  }

  /** Like {@link #call(String, Object...)}, converting the result to {@code type}. */
  public <T> T call(String method, Class<T> type, Object... params) {
    JsonNode result = call(method, params);
    try {
      return mapper.treeToValue(result, type);
    } catch (JsonProcessingException | IllegalArgumentException e) {
      throw new AgentException(
          ErrorCode.INTERNAL,
          "agent's answer to " + method + " is not a " + type.getSimpleName() + ": " + e,
          e);
    }
  }

  private JsonNode exchange(String method, ObjectNode request) {
    SocketChannel channel = connect();
    try (JsonChannel json = new JsonChannel(channel, mapper, MAX_ANSWER_BYTES)) {
      json.write(mapper.writeValueAsBytes(request), timeout);
      JsonNode response = json.read(timeout);
      if (response == null) {
        throw new AgentException(
            ErrorCode.IO_ERROR,
            "agent on " + socketPath + " closed the connection without answering " + method);
      }
      return response;
    } catch (JsonChannel.FramingException e) {
      if (e.failure() == JsonChannel.Failure.TIMEOUT) {
        throw new AgentException(
            ErrorCode.IO_ERROR,
            "agent on "
                + socketPath
                + " did not answer "
                + method
                + " within "
                + timeout.toMillis()
                + " ms; it may still be working: check its status",
            e);
      }
      throw new AgentException(
          ErrorCode.IO_ERROR, "agent on " + socketPath + " sent a broken answer: " + e, e);
    } catch (IOException e) {
      throw new AgentException(
          ErrorCode.IO_ERROR, "talking to the agent on " + socketPath + " failed: " + e, e);
    }
  }

  private SocketChannel connect() {
    try {
      return SocketChannel.open(UnixDomainSocketAddress.of(socketPath));
    } catch (IOException e) {
      String detail = String.valueOf(e.getMessage());
      if (Files.exists(socketPath) && detail.contains("denied")) {
        throw new AgentException(
            ErrorCode.IO_ERROR,
            "permission denied on " + socketPath + ": the agent socket is for root only",
            e);
      }
      throw new AgentException(
          ErrorCode.IO_ERROR,
          "no agent is listening on " + socketPath + ": is kubeos-agent.socket running?",
          e);
    }
  }
}
