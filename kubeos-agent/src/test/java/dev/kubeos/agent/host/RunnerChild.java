package dev.kubeos.agent.host;

import java.time.Duration;
import java.util.List;

/**
 * A stand-in agent for {@link ProcessCommandRunnerIT}: runs {@code argv} through the runner and
 * waits; the test kills this JVM while the command runs.
 */
public final class RunnerChild {
  private RunnerChild() {}

  public static void main(String[] argv) throws Exception {
    new ProcessCommandRunner().run(List.of(argv), Duration.ofMinutes(10));
  }
}
