package dev.kubeos.api.agent;

/** A failed agent operation: a typed code (what to do) and a message for the person reading it. */
public class AgentException extends RuntimeException {
  private final ErrorCode code;
  private final boolean answered;

  public AgentException(ErrorCode code, String message) {
    this(code, message, false);
  }

  public AgentException(ErrorCode code, String message, Throwable cause) {
    super(message, cause);
    this.code = code;
    this.answered = false;
  }

  /** An error as a caller of the agent received it; {@code answered}: see {@link #answered()}. */
  public AgentException(ErrorCode code, String message, boolean answered) {
    super(message);
    this.code = code;
    this.answered = answered;
  }

  public ErrorCode code() {
    return code;
  }

  /**
   * Whether the agent itself answered the request with this error, typed (its JSON-RPC error names
   * the code): the agent ran the request and reports that it failed, so it did not do what was
   * asked (no reboot follows a failed {@code upgrade} or {@code rollback}). False when the call
   * failed on the way (no agent listening, the connection closed or timed out without an answer, an
   * answer that could not be read), where what happened on the node is not known, and for an
   * untyped error of upstream's agent, whose effects its answer does not say.
   */
  public boolean answered() {
    return answered;
  }
}
