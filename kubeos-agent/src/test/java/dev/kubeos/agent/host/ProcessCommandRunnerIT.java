package dev.kubeos.agent.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kubeos.agent.port.CommandRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProcessCommandRunnerIT {
  private final ProcessCommandRunner runner = new ProcessCommandRunner(1024);

  @Test
  void capturesCombinedOutputAndExitStatus() throws Exception {
    CommandRunner.Result r =
        runner.run(List.of("sh", "-c", "echo out; echo err >&2; exit 3"), Duration.ofSeconds(10));
    assertThat(r.exitStatus()).isEqualTo(3);
    assertThat(r.ok()).isFalse();
    assertThat(r.timedOut()).isFalse();
    assertThat(r.output()).contains("out").contains("err");
  }

  @Test
  void boundsTheCapturedOutputKeepingHeadAndTail() throws Exception {
    CommandRunner.Result r =
        runner.run(
            List.of(
                "sh", "-c", "echo FIRST; head -c 1000000 /dev/zero | tr '\\0' a; echo; echo LAST"),
            Duration.ofSeconds(10));
    assertThat(r.ok()).isTrue();
    assertThat(r.output()).startsWith("FIRST").contains("bytes omitted").endsWith("LAST\n");
    assertThat(r.output().length()).isLessThan(1200);
  }

  @Test
  void timeoutKillsTheWholeProcessTree() throws Exception {
    long start = System.nanoTime();
    CommandRunner.Result r =
        runner.run(List.of("sh", "-c", "sleep 300 & echo child=$!; wait"), Duration.ofMillis(500));
    assertThat(r.timedOut()).isTrue();
    assertThat(r.exitStatus()).isEqualTo(-1);
    // ended by the timeout, not by the child's 300 s sleep (a bound far above any machine's delay)
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(120));
    long child = Long.parseLong(r.output().replaceAll("(?s).*child=(\\d+).*", "$1"));
    await()
        .atMost(Duration.ofMinutes(1))
        .alias("orphaned child " + child + " still running")
        .until(() -> !running(child));
  }

  /** Alive and not a zombie (an orphaned zombie waits for PID 1 to reap it). */
  private static boolean running(long pid) throws Exception {
    Path stat = Path.of("/proc/" + pid + "/stat");
    if (!Files.exists(stat)) {
      return false;
    }
    String s = Files.readString(stat);
    char state = s.substring(s.lastIndexOf(')') + 2).charAt(0);
    return state != 'Z' && state != 'X';
  }

  @Test
  void childrenDieWhenTheAgentIsKilled() throws Exception {
    assumeTrue(runner.childrenDieWithTheAgent(), "setpriv (util-linux) is not installed; skipped");
    Path pidFile = Files.createTempDirectory("runner-child").resolve("pid");
    String java = ProcessHandle.current().info().command().orElse("java");
    Process agent =
        new ProcessBuilder(
                java,
                "-cp",
                System.getProperty("java.class.path"),
                RunnerChild.class.getName(),
                "sh",
                "-c",
                "echo $$ > "
                    + pidFile
                    + ".tmp && mv "
                    + pidFile
                    + ".tmp "
                    + pidFile
                    + " && exec sleep 600")
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    try {
      await().atMost(Duration.ofMinutes(1)).until(() -> Files.exists(pidFile));
      long pid = Long.parseLong(Files.readString(pidFile).trim());
      assertThat(running(pid)).isTrue();

      agent.destroyForcibly(); // SIGKILL: no shutdown hook, no cleanup by the agent itself
      agent.waitFor();

      await().atMost(Duration.ofMinutes(1)).until(() -> !running(pid));
    } finally {
      agent.destroyForcibly();
    }
  }
}
