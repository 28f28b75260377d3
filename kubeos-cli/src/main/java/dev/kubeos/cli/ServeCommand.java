package dev.kubeos.cli;

import dev.kubeos.api.agent.AgentMethods;
import dev.kubeos.rpc.JsonRpcServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code kubeos agent serve}: the daemon answering JSON-RPC 2.0 on a root-only Unix socket. */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description =
        "Run the agent daemon: JSON-RPC 2.0 on a Unix socket (mode 0600), upstream-compatible.")
final class ServeCommand implements Callable<Integer> {
  // the defaults, shared with the fast path (FastArgs)
  static final String DEFAULT_REBOOT_DELAY = "2";
  static final String DEFAULT_READ_TIMEOUT = "5";
  static final String DEFAULT_MAX_CONNECTIONS = "" + JsonRpcServer.DEFAULT_MAX_CONNECTIONS;
  static final String DEFAULT_MAX_CONNECTIONS_PER_PEER =
      "" + JsonRpcServer.DEFAULT_MAX_CONNECTIONS_PER_PEER;
  static final String DEFAULT_DOWNLOAD_DEADLINE = "PT2H";
  static final String DEFAULT_DOWNLOAD_MIN_RATE = "65536";
  static final String DEFAULT_DOWNLOAD_RATE_WINDOW = "PT60S";

  @ParentCommand AgentCommand parent;

  @Option(
      names = "--socket",
      paramLabel = "PATH",
      defaultValue = AgentMethods.DEFAULT_SOCKET,
      description = "Socket path (default: ${DEFAULT-VALUE}).")
  Path socket;

  @Option(
      names = "--reboot-delay",
      paramLabel = "SECONDS",
      defaultValue = DEFAULT_REBOOT_DELAY,
      description =
          "Seconds between answering upgrade/rollback and rebooting (default: ${DEFAULT-VALUE}).")
  long rebootDelaySeconds;

  @Option(
      names = "--read-timeout",
      paramLabel = "SECONDS",
      defaultValue = DEFAULT_READ_TIMEOUT,
      description =
          "Longest wait for the bytes of one request, separate from how long the operation takes"
              + " (default: ${DEFAULT-VALUE}).")
  long readTimeoutSeconds;

  @Option(
      names = "--max-connections",
      paramLabel = "N",
      defaultValue = DEFAULT_MAX_CONNECTIONS,
      description = "Connections served at once, all peers together (default: ${DEFAULT-VALUE}).")
  int maxConnections;

  @Option(
      names = "--max-connections-per-peer",
      paramLabel = "N",
      defaultValue = DEFAULT_MAX_CONNECTIONS_PER_PEER,
      description = "Connections served at once for one peer user (default: ${DEFAULT-VALUE}).")
  int maxConnectionsPerPeer;

  @Option(
      names = "--socket-group",
      paramLabel = "GROUP",
      description =
          "A group whose members may use the socket besides root (socket mode 0660 then; default:"
              + " root only, 0600).")
  String socketGroup;

  @Option(
      names = "--file-url-dir",
      paramLabel = "DIR",
      description =
          "A directory whose files a file:// image_url may name over the socket (repeatable;"
              + " default: none, file:// is refused over the socket).")
  List<Path> fileUrlDirs = new ArrayList<>();

  @Option(
      names = "--download-deadline",
      paramLabel = "DURATION",
      defaultValue = DEFAULT_DOWNLOAD_DEADLINE,
      description =
          "Longest one download may take, resumes included, ISO-8601 (default: ${DEFAULT-VALUE}).")
  Duration downloadDeadline;

  @Option(
      names = "--download-min-rate",
      paramLabel = "BYTES_PER_SECOND",
      defaultValue = DEFAULT_DOWNLOAD_MIN_RATE,
      description =
          "A download averaging less over a rate window is stopped; 0 turns the rule off"
              + " (default: ${DEFAULT-VALUE}).")
  long downloadMinRate;

  @Option(
      names = "--download-rate-window",
      paramLabel = "DURATION",
      defaultValue = DEFAULT_DOWNLOAD_RATE_WINDOW,
      description = "The window the minimum rate is averaged over (default: ${DEFAULT-VALUE}).")
  Duration downloadRateWindow;

  @Option(
      names = "--idle-exit",
      paramLabel = "DURATION",
      defaultValue = AgentServe.DEFAULT_IDLE_EXIT,
      description =
          "With socket activation (the socket passed as standard input by systemd), exit once"
              + " no connection is open and nothing runs for this long; systemd starts the agent"
              + " again on the next connection. 0 = never; 90, 90s, 500ms, 2m or PT90S"
              + " (default: ${DEFAULT-VALUE}). Without socket activation the agent never exits"
              + " by itself.")
  String idleExit;

  /** What this command line asks for. */
  AgentServe.Settings settings() {
    return new AgentServe.Settings(
        parent.options(),
        socket,
        rebootDelaySeconds,
        readTimeoutSeconds,
        maxConnections,
        maxConnectionsPerPeer,
        socketGroup,
        fileUrlDirs,
        downloadDeadline,
        downloadMinRate,
        downloadRateWindow,
        AgentServe.parseIdle(idleExit));
  }

  @Override
  public Integer call() throws Exception {
    return AgentServe.run(settings(), System.err);
  }
}
