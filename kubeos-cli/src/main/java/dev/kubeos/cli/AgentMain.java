package dev.kubeos.cli;

import dev.kubeos.api.agent.AgentException;
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
    serveIfDaemon(args);
    System.exit(Main.run(Main.withErrorHandling(new CommandLine(new AgentMain())), args));
  }

  /**
   * The daemon ({@code agent [OPTIONS] serve [OPTIONS]}, systemd's ExecStart, started on demand by
   * the socket) without picocli's model of every command: runs it and exits. Returns when {@code
   * args} is anything else (then picocli reads them).
   */
  static void serveIfDaemon(String[] args) throws InterruptedException {
    AgentServe.Settings serve = ServeArgs.parse(args);
    if (serve == null) {
      return;
    }
    Main.logFormat();
    int status;
    try {
      status = AgentServe.run(serve, System.err);
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

  @Override
  public void run() {
    CommandLine.usage(this, System.out);
  }
}
