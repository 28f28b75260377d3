package dev.kubeos.cli;

import dev.kubeos.agent.AgentService;
import dev.kubeos.agent.host.AgentOptions;
import dev.kubeos.agent.host.HostAgents;
import dev.kubeos.agent.host.ProcessCommandRunner;
import dev.kubeos.agent.host.SystemdRebooter;
import dev.kubeos.oci.source.DownloadLimits;
import dev.kubeos.rpc.JsonRpcServer;
import dev.kubeos.rpc.RpcDispatcher;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.channels.Channel;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * {@code kubeos agent serve} itself, after its arguments were read (by picocli in {@link
 * ServeCommand}, or by the fast path {@link FastArgs} that the node's unit takes).
 *
 * <p>Socket activation: when standard input is a listening Unix socket (systemd's {@code
 * StandardInput=socket} with {@code Accept=no}, see deploy/systemd/kubeos-agent.socket), the agent
 * serves that socket and ends itself with status 0 once idle for {@link Settings#idleExit()};
 * systemd starts it again on the next connection. Otherwise it binds {@link Settings#socket()}
 * itself and runs until stopped.
 */
final class AgentServe {
  /** Default of {@code --idle-exit}. */
  static final String DEFAULT_IDLE_EXIT = "60s";

  private AgentServe() {}

  /** Everything {@code agent serve} needs from its command line. */
  record Settings(
      AgentOptions agent,
      Path socket,
      long rebootDelaySeconds,
      long readTimeoutSeconds,
      int maxConnections,
      int maxConnectionsPerPeer,
      String socketGroup,
      List<Path> fileUrlDirs,
      Duration downloadDeadline,
      long downloadMinRate,
      Duration downloadRateWindow,
      Duration idleExit) {
    Settings {
      Objects.requireNonNull(agent, "agent");
      Objects.requireNonNull(socket, "socket");
      fileUrlDirs = List.copyOf(fileUrlDirs);
      Objects.requireNonNull(idleExit, "idleExit");
    }
  }

  /**
   * Serves until stopped (SIGTERM) or, when socket-activated, until idle; returns the exit status:
   * 0, or 1 when the listening socket failed (a failure for {@code Restart=on-failure}).
   */
  static int run(Settings s, PrintStream err) throws IOException, InterruptedException {
    ServerSocketChannel activated = activatedSocket();
    AgentService service =
        new AgentService(
            HostAgents.create(s.agent(), Clock.systemUTC()),
            new SystemdRebooter(new ProcessCommandRunner()),
            s.agent().certDir(),
            Duration.ofSeconds(s.rebootDelaySeconds()),
            s.fileUrlDirs(),
            new DownloadLimits(s.downloadDeadline(), s.downloadMinRate(), s.downloadRateWindow()));
    JsonRpcServer.Limits limits =
        JsonRpcServer.Limits.defaults()
            .withReadTimeout(Duration.ofSeconds(s.readTimeoutSeconds()))
            .withConnections(s.maxConnections(), s.maxConnectionsPerPeer())
            .withGroup(s.socketGroup());
    RpcDispatcher dispatcher = new RpcDispatcher(service);
    JsonRpcServer server;
    if (activated != null) {
      server = new JsonRpcServer(activated, dispatcher, limits);
      if (!s.idleExit().isZero()) {
        server.exitWhenIdle(s.idleExit(), service::busy);
      }
    } else {
      server = new JsonRpcServer(s.socket(), dispatcher, limits);
    }
    server.start();
    // SIGTERM (systemctl stop): stop accepting, remove the socket file, then let the JVM exit
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "kubeos-serve-stop"));
    long startedMillis =
        ProcessHandle.current()
            .info()
            .startInstant()
            .map(t -> System.currentTimeMillis() - t.toEpochMilli())
            .orElse(-1L);
    DaemonArchive.removeIfBroken(err); // serving already: a first request is not held up
    err.println(
        "kubeos agent: listening on "
            + server.socketPath()
            + (activated == null
                ? ""
                : " (socket activation, "
                    + (s.idleExit().isZero()
                        ? "no idle exit"
                        : "idle exit after " + describe(s.idleExit()))
                    + ")")
            + " ("
            + startedMillis
            + " ms after process start)");
    JsonRpcServer.End end = server.awaitEnd();
    server.close();
    switch (end) {
      case IDLE:
        err.println(
            "kubeos agent: idle, exiting (systemd starts the agent on the next connection)");
        return 0;
      case FAILED:
        err.println("kubeos agent: the socket failed; exiting so that systemd restarts the agent");
        return 1;
      default:
        return 0; // stopped (SIGTERM)
    }
  }

  /**
   * The listening socket systemd passed as standard input, or null when there is none (run from a
   * shell, a test, a unit without socket activation).
   */
  static ServerSocketChannel activatedSocket() throws IOException {
    Channel inherited = System.inheritedChannel();
    if (inherited == null) {
      return null;
    }
    if (inherited instanceof ServerSocketChannel) {
      return (ServerSocketChannel) inherited;
    }
    throw new IllegalArgumentException(
        "standard input is a socket but not a listening one ("
            + inherited.getClass().getSimpleName()
            + "): the agent's socket unit must have Accept=no");
  }

  /**
   * Reads an idle period: {@code 0} (never), a number of seconds, a number with {@code ms}, {@code
   * s}, {@code m} or {@code h}, or an ISO-8601 duration ({@code PT90S}).
   */
  static Duration parseIdle(String text) {
    String t = text.strip().toLowerCase(Locale.ROOT);
    Duration d;
    try {
      if (t.startsWith("pt") || t.startsWith("p")) {
        d = Duration.parse(t.toUpperCase(Locale.ROOT));
      } else if (t.endsWith("ms")) {
        d = Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
      } else if (t.endsWith("s")) {
        d = Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)));
      } else if (t.endsWith("m")) {
        d = Duration.ofMinutes(Long.parseLong(t.substring(0, t.length() - 1)));
      } else if (t.endsWith("h")) {
        d = Duration.ofHours(Long.parseLong(t.substring(0, t.length() - 1)));
      } else {
        d = Duration.ofSeconds(Long.parseLong(t));
      }
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          "idle period '" + text + "' is not 0, SECONDS, a number with ms/s/m/h or ISO-8601");
    }
    if (d.isNegative()) {
      throw new IllegalArgumentException("idle period '" + text + "' is negative");
    }
    return d;
  }

  private static String describe(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
  }
}
