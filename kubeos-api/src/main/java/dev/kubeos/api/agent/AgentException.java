package dev.kubeos.api.agent;

/** A failed agent operation: a typed code (what to do) and a message for the person reading it. */
public class AgentException extends RuntimeException {
  private final ErrorCode code;

  public AgentException(ErrorCode code, String message) {
    super(message);
    this.code = code;
  }

  public AgentException(ErrorCode code, String message, Throwable cause) {
    super(message, cause);
    this.code = code;
  }

  public ErrorCode code() {
    return code;
  }
}
