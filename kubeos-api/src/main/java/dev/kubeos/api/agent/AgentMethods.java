package dev.kubeos.api.agent;

/** JSON-RPC method names and the socket path of the agent (upstream-compatible). */
public final class AgentMethods {
  /** Upstream's socket path; its proxy DaemonSet mounts /var/run/os-agent. */
  public static final String DEFAULT_SOCKET = "/run/os-agent/os-agent.sock";

  public static final String PREPARE_UPGRADE = "prepare_upgrade";
  public static final String UPGRADE = "upgrade";
  public static final String ROLLBACK = "rollback";
  public static final String CONFIGURE = "configure";
  // our own
  public static final String STATUS = "status";
  public static final String COMMIT = "commit";

  private AgentMethods() {}
}
