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
            new DownloadLimits(downloadDeadline, downloadMinRate, downloadRateWindow));
    JsonRpcServer server = new JsonRpcServer(socket, new RpcDispatcher(service));
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
