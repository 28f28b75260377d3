package dev.kubeos.cli;

import dev.kubeos.agent.health.HealthReport;
import dev.kubeos.agent.host.HostAgents;
import dev.kubeos.api.agent.AgentException;
import java.time.Clock;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Entry point of the node's slim {@code kubeos-agent.jar}: the same {@code kubeos agent ...}
 * commands as the full CLI, without the cluster, image and demo commands (and without their
 * libraries in the jar), so the daemon starts quickly and carries no Kubernetes client.
 */
@Command(
    name = "kubeos",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "KubeOS for Java, node agent.",
    subcommands = {AgentCommand.class, CommandLine.HelpCommand.class})
public final class AgentMain implements Runnable {

  public static void main(String[] args) throws Exception {
    fastPath(args);
    System.exit(Main.run(Main.withErrorHandling(new CommandLine(new AgentMain())), args));
  }

  /**
   * The two commands systemd starts on every node, the daemon ({@code agent [OPTIONS] serve
   * [OPTIONS]}, started on demand by the socket) and the post-boot gate ({@code agent [OPTIONS]
   * health [--no-reboot]}), without picocli's model of every command ({@link FastArgs}): runs the
   * command and exits. Returns when {@code args} is anything else (then picocli reads them).
   */
  static void fastPath(String[] args) throws InterruptedException {
    AgentServe.Settings serve = FastArgs.serve(args);
    FastArgs.Health health = serve == null ? FastArgs.health(args) : null;
    if (serve == null && health == null) {
      return;
    }
    Main.logFormat();
    int status;
    try {
      status = serve != null ? AgentServe.run(serve, System.err) : health(health);
    } catch (AgentException e) {
      System.err.println(Main.errorLine(e, true));
      status = e.code().exitStatus();
    } catch (IllegalArgumentException e) {
      System.err.println("kubeos: " + e.getMessage());
      status = 2;
    } catch (java.io.IOException e) {
      System.err.println("kubeos: " + e);
      status = 1;
    }
    System.exit(status);
  }

  /** {@code agent health}: what {@link AgentCommands.Health} does, printed the same way. */
  private static int health(FastArgs.Health h) {
    HealthReport report = HostAgents.create(h.agent(), Clock.systemUTC()).health(!h.noReboot());
    System.out.println(AgentCommands.Health.line(report));
    System.out.flush();
    return AgentCommands.Health.status(report);
  }

  @Override
  public void run() {
    CommandLine.usage(this, System.out);
  }
}
