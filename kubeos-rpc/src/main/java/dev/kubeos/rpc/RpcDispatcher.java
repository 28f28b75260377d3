package dev.kubeos.rpc;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubeos.api.Json;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.AgentMethods;
import dev.kubeos.api.agent.ConfigureRequest;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.api.agent.UpgradeRequest;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.util.Objects;

/**
 * Turns JSON-RPC 2.0 requests into {@link AgentOperations} calls. No sockets here: the server feeds
 * it parsed JSON and writes back what it returns.
 *
 * <p>Param shapes (upstream KubeOS): {@code prepare_upgrade} and {@code configure} take a
 * one-element array holding the request object (a bare object is accepted too); {@code upgrade},
 * {@code rollback}, {@code status} and {@code commit} take {@code []}, {@code {}} or no params.
 */
public final class RpcDispatcher {
  private static final System.Logger LOG = System.getLogger(RpcDispatcher.class.getName());

  /** What one call produced: exactly one of {@code result} and {@code error} is non-null. */
  public record Outcome(JsonNode result, RpcError error) {
    public boolean ok() {
      return error == null;
    }
  }

  /** Most calls in one JSON-RPC batch; a bigger batch is refused whole (invalid request). */
  public static final int DEFAULT_MAX_BATCH = 16;

  private final AgentOperations operations;
  private final ObjectMapper mapper;
  private final int maxBatch;

  public RpcDispatcher(AgentOperations operations) {
    this(operations, Json.mapper(), DEFAULT_MAX_BATCH);
  }

  public RpcDispatcher(AgentOperations operations, ObjectMapper mapper) {
    this(operations, mapper, DEFAULT_MAX_BATCH);
  }

  /**
   * @param mapper copied; the copy rejects duplicate keys ({@code {"method":"status",
   *     "method":"upgrade"}} must run neither)
   * @param maxBatch most calls in one batch
   */
  public RpcDispatcher(AgentOperations operations, ObjectMapper mapper, int maxBatch) {
    this.operations = Objects.requireNonNull(operations, "operations");
    this.mapper =
        Objects.requireNonNull(mapper, "mapper")
            .copy()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    if (maxBatch < 1) {
      throw new IllegalArgumentException("maxBatch must be at least 1, got " + maxBatch);
    }
    this.maxBatch = maxBatch;
  }

  /**
   * Answers one request given as bytes: a parse error (-32700) when they are not one JSON value, an
   * invalid-request error (-32600) for duplicate keys, else as {@link #handle(JsonNode)}.
   */
  public JsonNode handle(byte[] request) {
    JsonNode message;
    try {
      message = mapper.readTree(request);
    } catch (IOException e) {
      String original =
          e instanceof JsonProcessingException
              ? String.valueOf(((JsonProcessingException) e).getOriginalMessage())
              : String.valueOf(e.getMessage());
      if (original.startsWith("Duplicate field")) {
        return errorResponse(
            null, RpcError.invalidRequest("duplicate key in the request: " + original));
      }
      return errorResponse(null, RpcError.parseError("not valid JSON: " + original));
    }
    if (message == null || message.isMissingNode()) {
      return errorResponse(null, RpcError.parseError("empty request"));
    }
    return handle(message);
  }

  public ObjectMapper mapper() {
    return mapper;
  }

  /**
   * Answers one parsed JSON-RPC message: a request object or a batch array. Returns the response
   * (object or array), or null when nothing must be sent (notifications).
   */
  public JsonNode handle(JsonNode message) {
    if (message != null && message.isArray()) {
      if (message.isEmpty()) {
        return errorResponse(null, RpcError.invalidRequest("empty batch: send at least one call"));
      }
      if (message.size() > maxBatch) {
        return errorResponse(
            null,
            RpcError.invalidRequest(
                "batch of "
                    + message.size()
                    + " calls: the agent accepts at most "
                    + maxBatch
                    + " calls in one batch"));
      }
      ArrayNode responses = mapper.createArrayNode();
      for (JsonNode call : message) {
        JsonNode response = handleOne(call);
        if (response != null) {
          responses.add(response);
        }
      }
      return responses.isEmpty() ? null : responses;
    }
    return handleOne(message);
  }

  private JsonNode handleOne(JsonNode request) {
    if (request == null || !request.isObject()) {
      return errorResponse(
          null,
          RpcError.invalidRequest(
              "a request must be a JSON object {\"jsonrpc\":\"2.0\",\"method\":...,\"id\":...};"
                  + " got "
                  + describe(request)));
    }
    JsonNode id = request.get("id");
    boolean notification = id == null;
    if (id != null && !(id.isTextual() || id.isNumber() || id.isNull())) {
      return errorResponse(
          null, RpcError.invalidRequest("\"id\" must be a string or a number; got " + id));
    }
    JsonNode version = request.get("jsonrpc");
    if (version != null && !"2.0".equals(version.asText())) {
      return notification
          ? null
          : errorResponse(
              id,
              RpcError.invalidRequest(
                  "unsupported \"jsonrpc\": " + version + " (expected \"2.0\")"));
    }
    JsonNode method = request.get("method");
    if (method == null || !method.isTextual()) {
      return notification
          ? null
          : errorResponse(
              id, RpcError.invalidRequest("\"method\" must be a string; got " + describe(method)));
    }
    Outcome outcome = dispatch(method.asText(), request.get("params"));
    if (notification) {
      return null;
    }
    if (!outcome.ok()) {
      return errorResponse(id, outcome.error());
    }
    ObjectNode response = envelope(id);
    response.set("result", outcome.result());
    return response;
  }

  /** Calls {@code method} with {@code params} (null when absent); never throws. */
  public Outcome dispatch(String method, JsonNode params) {
    try {
      Object result;
      switch (method) {
        case AgentMethods.PREPARE_UPGRADE:
          result = operations.prepareUpgrade(requestParam(method, params, UpgradeRequest.class));
          break;
        case AgentMethods.CONFIGURE:
          result = operations.configure(requestParam(method, params, ConfigureRequest.class));
          break;
        case AgentMethods.UPGRADE:
          noParams(method, params);
          result = operations.upgrade();
          break;
        case AgentMethods.ROLLBACK:
          noParams(method, params);
          result = operations.rollback();
          break;
        case AgentMethods.STATUS:
          noParams(method, params);
          result = operations.status();
          break;
        case AgentMethods.COMMIT:
          noParams(method, params);
          result = operations.commit();
          break;
        default:
          return new Outcome(
              null,
              RpcError.methodNotFound(
                  "unknown method '"
                      + method
                      + "': this agent serves prepare_upgrade, upgrade, rollback, configure,"
                      + " status, commit"));
      }
      if (result == null) {
        return new Outcome(
            null, RpcError.of(ErrorCode.INTERNAL, "agent returned no result for " + method));
      }
      return new Outcome(mapper.valueToTree(result), null);
    } catch (InvalidParams e) {
      return new Outcome(null, RpcError.invalidParams(e.getMessage()));
    } catch (AgentException e) {
      return new Outcome(null, RpcError.of(e));
    } catch (RuntimeException e) {
      LOG.log(Level.ERROR, "unexpected failure in " + method, e);
      return new Outcome(
          null, RpcError.of(ErrorCode.INTERNAL, "internal error in " + method + ": " + e));
    }
  }

  /** A response envelope carrying {@code error}; {@code id} null when it could not be read. */
  public ObjectNode errorResponse(JsonNode id, RpcError error) {
    ObjectNode response = envelope(id);
    response.set("error", error.toJson());
    return response;
  }

  private ObjectNode envelope(JsonNode id) {
    ObjectNode response = mapper.createObjectNode();
    response.put("jsonrpc", "2.0");
    response.set("id", id == null ? mapper.nullNode() : id);
    return response;
  }

  private <T> T requestParam(String method, JsonNode params, Class<T> type) {
    String expected =
        method
            + " expects params as a one-element array holding a "
            + type.getSimpleName()
            + " object, e.g. [{...}]";
    JsonNode object;
    if (params != null && params.isArray()) {
      if (params.size() != 1) {
        throw new InvalidParams(expected + "; got an array of " + params.size() + " elements");
      }
      object = params.get(0);
    } else {
      object = params;
    }
    if (object == null || !object.isObject()) {
      throw new InvalidParams(expected + "; got " + describe(object));
    }
    try {
      return mapper.treeToValue(object, type);
    } catch (JsonProcessingException | IllegalArgumentException e) {
      String detail =
          e instanceof JsonProcessingException
              ? ((JsonProcessingException) e).getOriginalMessage()
              : e.getMessage();
      throw new InvalidParams(
          method + ": params do not match " + type.getSimpleName() + ": " + detail);
    }
  }

  private static void noParams(String method, JsonNode params) {
    if (params == null || params.isNull() || (params.isContainerNode() && params.isEmpty())) {
      return;
    }
    throw new InvalidParams(
        method + " takes no parameters: send [] or omit \"params\"; got " + describe(params));
  }

  private static String describe(JsonNode node) {
    if (node == null || node.isMissingNode()) {
      return "nothing";
    }
    String text = node.toString();
    String shown = text.length() > 120 ? text.substring(0, 120) + "..." : text;
    return node.getNodeType().name().toLowerCase(java.util.Locale.ROOT) + " " + shown;
  }

  /** Params of the wrong shape; becomes a -32602 error. */
  private static final class InvalidParams extends RuntimeException {
    InvalidParams(String message) {
      super(message, null, false, false);
    }
  }
}
