package dev.kubeos.cli;

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

  public static void main(String[] args) {
    System.exit(Main.run(Main.withErrorHandling(new CommandLine(new AgentMain())), args));
  }

  @Override
  public void run() {
    CommandLine.usage(this, System.out);
  }
}
