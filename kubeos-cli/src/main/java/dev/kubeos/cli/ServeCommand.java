package dev.kubeos.cli;

import dev.kubeos.agent.AgentService;
import dev.kubeos.agent.host.ProcessCommandRunner;
import dev.kubeos.agent.host.SystemdRebooter;
import dev.kubeos.api.agent.AgentMethods;
import dev.kubeos.oci.source.DownloadLimits;
import dev.kubeos.rpc.JsonRpcServer;
import dev.kubeos.rpc.RpcDispatcher;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
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
      defaultValue = "2",
      description =
          "Seconds between answering upgrade/rollback and rebooting (default: ${DEFAULT-VALUE}).")
  long rebootDelaySeconds;

  @Option(
      names = "--read-timeout",
      paramLabel = "SECONDS",
      defaultValue = "5",
      description =
          "Longest wait for the bytes of one request, separate from how long the operation takes"
              + " (default: ${DEFAULT-VALUE}).")
  long readTimeoutSeconds;

  @Option(
      names = "--max-connections",
      paramLabel = "N",
      defaultValue = "" + JsonRpcServer.DEFAULT_MAX_CONNECTIONS,
      description = "Connections served at once, all peers together (default: ${DEFAULT-VALUE}).")
  int maxConnections;

  @Option(
      names = "--max-connections-per-peer",
      paramLabel = "N",
      defaultValue = "" + JsonRpcServer.DEFAULT_MAX_CONNECTIONS_PER_PEER,
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
      defaultValue = "PT2H",
      description =
          "Longest one download may take, resumes included, ISO-8601 (default: ${DEFAULT-VALUE}).")
  Duration downloadDeadline;

  @Option(
      names = "--download-min-rate",
      paramLabel = "BYTES_PER_SECOND",
      defaultValue = "65536",
      description =
          "A download averaging less over a rate window is stopped; 0 turns the rule off"
              + " (default: ${DEFAULT-VALUE}).")
  long downloadMinRate;

  @Option(
      names = "--download-rate-window",
      paramLabel = "DURATION",
      defaultValue = "PT60S",
      description = "The window the minimum rate is averaged over (default: ${DEFAULT-VALUE}).")
  Duration downloadRateWindow;

  @Override
  public Integer call() throws Exception {
    AgentService service =
        new AgentService(
            parent.agent(),
            new SystemdRebooter(new ProcessCommandRunner()),
            parent.certDir,
            Duration.ofSeconds(rebootDelaySeconds),
            fileUrlDirs,
            new DownloadLimits(downloadDeadline, downloadMinRate, downloadRateWindow));
    JsonRpcServer.Limits limits =
        JsonRpcServer.Limits.defaults()
            .withReadTimeout(Duration.ofSeconds(readTimeoutSeconds))
            .withConnections(maxConnections, maxConnectionsPerPeer)
            .withGroup(socketGroup);
    JsonRpcServer server = new JsonRpcServer(socket, new RpcDispatcher(service), limits);
    server.start();
    // SIGTERM (systemctl stop): stop accepting, remove the socket file, then let the JVM exit
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  server.close();
                  stopped.countDown();
                },
                "kubeos-serve-stop"));
    long startedMillis =
        ProcessHandle.current()
            .info()
            .startInstant()
            .map(t -> System.currentTimeMillis() - t.toEpochMilli())
            .orElse(-1L);
    System.err.println(
        "kubeos agent: listening on " + socket + " (" + startedMillis + " ms after process start)");
    stopped.await();
    return 0;
  }
}
