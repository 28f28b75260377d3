package dev.kubeos.api.agent;

/**
 * Typed agent errors. The same codes cross the JSON-RPC socket (as the JSON-RPC error code) and the
 * CLI (as the process exit status), so callers decide by code, never by parsing messages.
 */
public enum ErrorCode {
  /** The request is malformed or names an unknown thing. */
  INVALID_REQUEST(-32602, 2, Action.ROLL_BACK),
  /** Another operation holds the agent; retry when it is done. */
  BUSY(-32001, 75, Action.RETRY),
  /** The payload could not be fetched (network, HTTP status, TLS). */
  DOWNLOAD_FAILED(-32010, 69, Action.RETRY),
  /**
   * The payload server redirected in a way the agent refuses (https to another scheme, more than a
   * few hops, no Location): asking again meets the same redirect, so fix the server or the URL.
   */
  REDIRECT_REFUSED(-32017, 69, Action.ROLL_BACK),
  /**
   * A download was cut off by its overall deadline or because it stayed under the minimum rate (the
   * defaults are in docs/agent-api.md); the link may be better later.
   */
  DOWNLOAD_TOO_SLOW(-32018, 69, Action.RETRY),
  /** The payload's digest differs from the expected one. */
  CHECKSUM_MISMATCH(-32011, 65, Action.ROLL_BACK),
  /** The payload does not fit into the target slot. */
  PAYLOAD_TOO_LARGE(-32012, 65, Action.ROLL_BACK),
  /** The payload is not what its format says (bad tar entry, unsafe path, device node, ...). */
  PAYLOAD_INVALID(-32013, 65, Action.ROLL_BACK),
  /**
   * The node's trust policy requires signatures and the payload has none that is valid: unsigned,
   * signed by a key the node does not trust, or signed for another digest or version.
   */
  SIGNATURE_REJECTED(-32015, 77, Action.ROLL_BACK),
  /**
   * The node's own settings policy (/etc/KubeOS/settings-policy.json) refuses a settings change,
   * whatever the cluster asked for; the message names the rule. Nothing was changed.
   */
  POLICY_DENIED(-32016, 77, Action.ROLL_BACK),
  /** What was written could not be read back identically. */
  VERIFY_FAILED(-32014, 74, Action.RETRY),
  /**
   * The operation is not allowed in the node's current state (nothing staged, not a trial, ...).
   */
  PRECONDITION_FAILED(-32020, 9, Action.ROLL_BACK),
  /** The disk does not follow the boot contract (no GPT, no ROOT-A/ROOT-B, corrupt headers). */
  DISK_LAYOUT(-32030, 78, Action.GIVE_UP),
  /** Post-boot health checks failed. */
  HEALTH_FAILED(-32040, 1, Action.ROLL_BACK),
  /** The request is valid but this agent does not support it. */
  UNSUPPORTED(-32050, 64, Action.ROLL_BACK),
  /** An I/O or tool failure on the node. */
  IO_ERROR(-32060, 74, Action.RETRY),
  /**
   * A write on the node failed with "No space left on device" (ENOSPC); the message names the file
   * system. Retrying cannot help until someone frees space.
   */
  NO_SPACE(-32061, 74, Action.GIVE_UP),
  /** A bug or an unexpected condition. */
  INTERNAL(-32603, 70, Action.GIVE_UP);

  private final int rpcCode;
  private final int exitStatus;
  private final Action action;

  ErrorCode(int rpcCode, int exitStatus, Action action) {
    this.rpcCode = rpcCode;
    this.exitStatus = exitStatus;
    this.action = action;
  }

  public int rpcCode() {
    return rpcCode;
  }

  public int exitStatus() {
    return exitStatus;
  }

  public Action action() {
    return action;
  }

  public static ErrorCode fromRpcCode(int code) {
    for (ErrorCode c : values()) {
      if (c.rpcCode == code) {
        return c;
      }
    }
    return INTERNAL;
  }
}
