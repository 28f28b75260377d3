package dev.kubeos.cli;

import dev.kubeos.api.agent.AgentException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code kubeos} command: only wires picocli and the error handling. */
@Command(
    name = "kubeos",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "KubeOS for Java: atomic A/B OS upgrades for Kubernetes nodes.",
    subcommands = {
      AgentCommand.class,
      ImageCommand.class,
      DemoCommand.class,
      PlanCommand.class,
      ProxyCommand.class,
      OperatorCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Runnable {

  public static void main(String[] args) throws InterruptedException {
    AgentMain.fastPath(args);
    System.exit(run(commandLine(), args));
  }

  /** Runs a configured command line the way the {@code kubeos} launchers do. */
  static int run(CommandLine cl, String[] args) {
    logFormat();
    return cl.execute(args);
  }

  /** One line per log record: time, level, message (journald adds the rest). */
  static void logFormat() {
    if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
      System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tT %4$s %5$s%6$s%n");
    }
  }

  /** The configured command line (also used by the demo and tests to run commands in-process). */
  public static CommandLine commandLine() {
    return withErrorHandling(new CommandLine(new Main()));
  }

  /** Typed agent errors become a message, the action to take and the code's exit status. */
  static CommandLine withErrorHandling(CommandLine cl) {
    cl.setExecutionExceptionHandler(
        (e, cmd, parsed) -> {
          if (e instanceof AgentException) {
            AgentException ae = (AgentException) e;
            cmd.getErr().println(errorLine(ae, underAgent(cmd)));
            return ae.code().exitStatus();
          }
          if (e instanceof IllegalArgumentException) {
            cmd.getErr().println("kubeos: " + e.getMessage());
            return 2;
          }
          throw e;
        });
    return cl;
  }

  /**
   * The one line a typed error prints. The action (retry, roll back, give up) tells a rollout what
   * to do with the node; for the image builder and the other tools the code alone is the right
   * hint.
   */
  static String errorLine(AgentException ae, boolean agentCommand) {
    String action =
        agentCommand
            ? ", caller should "
                + ae.code().action().name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ')
            : "";
    return "kubeos: " + ae.getMessage() + " [" + ae.code() + action + "]";
  }

  private static boolean underAgent(CommandLine cmd) {
    for (CommandLine c = cmd; c != null; c = c.getParent()) {
      if ("agent".equals(c.getCommandName())) {
        return true;
      }
    }
    return false;
  }

  @Override
  public void run() {
    CommandLine.usage(this, System.out);
  }

  /** Version from the jar manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"kubeos " + (v == null ? "development build" : v)};
    }
  }
}
