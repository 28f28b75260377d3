package dev.kubeos.rpc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;

/**
 * A JSON-RPC 2.0 error object. Agent errors carry {@code data = {"code": <ErrorCode name>,
 * "action": <RETRY|ROLL_BACK|GIVE_UP>}} so callers decide by type, never by message.
 *
 * @param code JSON-RPC error code
 * @param message text for the person reading it
 * @param data structured detail (may be null)
 */
public record RpcError(int code, String message, JsonNode data) {
  public static final int PARSE_ERROR = -32700;
  public static final int INVALID_REQUEST = -32600;
  public static final int METHOD_NOT_FOUND = -32601;
  public static final int INVALID_PARAMS = -32602;

  /**
   * The one code upstream's agent answers every failed operation with (its {@code RPC_OP_ERROR}),
   * without {@code data}: the message is all it says.
   */
  public static final int UPSTREAM_OPERATION_ERROR = -1;

  /** Upstream's agent's message when another request holds it (it answers at once). */
  public static final String UPSTREAM_BUSY = "os-agent is processing another request";

  /** The error that carries a typed agent failure. */
  public static RpcError of(AgentException e) {
    return of(e.code(), e.getMessage() == null ? e.code().name() : e.getMessage());
  }

  /** An error with {@code code = errorCode.rpcCode()} and typed data. */
  public static RpcError of(ErrorCode errorCode, String message) {
    return new RpcError(errorCode.rpcCode(), message, typedData(errorCode));
  }

  /** -32700: the bytes are not JSON. */
  public static RpcError parseError(String message) {
    return new RpcError(PARSE_ERROR, message, typedData(ErrorCode.INVALID_REQUEST));
  }

  /** -32600: JSON, but not a JSON-RPC request. */
  public static RpcError invalidRequest(String message) {
    return new RpcError(INVALID_REQUEST, message, typedData(ErrorCode.INVALID_REQUEST));
  }

  /** -32601: the method does not exist. */
  public static RpcError methodNotFound(String message) {
    return new RpcError(METHOD_NOT_FOUND, message, typedData(ErrorCode.UNSUPPORTED));
  }

  /** -32602: the params do not have the shape the method expects. */
  public static RpcError invalidParams(String message) {
    return new RpcError(INVALID_PARAMS, message, typedData(ErrorCode.INVALID_REQUEST));
  }

  /** Reads an error object as found in a response; tolerates missing members. */
  public static RpcError fromJson(JsonNode error) {
    JsonNode data = error.get("data");
    return new RpcError(
        error.path("code").asInt(ErrorCode.INTERNAL.rpcCode()),
        error.path("message").asText("agent sent an error without a message"),
        data == null || data.isNull() ? null : data);
  }

  /**
   * The agent error type: {@code data.code} when it names one, else by JSON-RPC code. An untyped
   * error of upstream's agent (code {@value #UPSTREAM_OPERATION_ERROR}) is {@link ErrorCode#BUSY}
   * when its message says another request holds the agent, else {@link ErrorCode#IO_ERROR}: both
   * transient, as upstream's own proxy requeues after every agent error; the caller's deadline
   * bounds the retries. An untyped "method not found" (-32601: upstream's agent has no {@code
   * status}) is {@link ErrorCode#UNSUPPORTED}, as our own server types it.
   */
  public ErrorCode errorCode() {
    if (typed()) {
      try {
        return ErrorCode.valueOf(data.path("code").asText());
      } catch (IllegalArgumentException unknown) {
        // a newer agent may know more codes: fall back to the numeric code
      }
    }
    if (code == UPSTREAM_OPERATION_ERROR && data == null) {
      return message != null && message.contains(UPSTREAM_BUSY)
          ? ErrorCode.BUSY
          : ErrorCode.IO_ERROR;
    }
    if (code == METHOD_NOT_FOUND) {
      return ErrorCode.UNSUPPORTED; // as our server types it; upstream's agent sends no data
    }
    return ErrorCode.fromRpcCode(code);
  }

  /** Whether the agent typed this error: {@code data.code} names it, known here or not. */
  private boolean typed() {
    return data != null && data.path("code").isTextual();
  }

  /**
   * This error as the exception a caller of the agent sees: {@link AgentException#answered()} when
   * the agent typed it ({@code data.code}), as this project's agent does for every error it
   * answers.
   */
  public AgentException toException() {
    return new AgentException(errorCode(), message, typed());
  }

  /** The JSON form: {@code {"code", "message", "data"?}}. */
  public ObjectNode toJson() {
    ObjectNode node = JsonNodeFactory.instance.objectNode();
    node.put("code", code);
    node.put("message", message);
    if (data != null) {
      node.set("data", data);
    }
    return node;
  }

  private static ObjectNode typedData(ErrorCode errorCode) {
    ObjectNode data = JsonNodeFactory.instance.objectNode();
    data.put("code", errorCode.name());
    data.put("action", errorCode.action().name());
    return data;
  }
}
