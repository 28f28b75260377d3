package dev.kubeos.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kubeos.rpc.JsonRpcClient;
import dev.kubeos.testing.TestDisks;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code agent serve} under a fake socket activation, in a child JVM with the unit's flags. A few
 * lines of Python play systemd's {@code kubeos-agent.socket} ({@code Accept=no}, {@code
 * StandardInput=socket}): they bind and listen, and whenever a connection waits and no agent runs,
 * they start one with the listening socket as its standard input (Java cannot hand a descriptor to
 * a child; {@code systemd-socket-activate} passes fd 3, which {@link System#inheritedChannel()}
 * does not look at). The agent answers, exits with status 0 once idle, and a connection made while
 * none runs is answered by the next start.
 */
@Timeout(300)
class SocketActivationIT {
  private static final Path UNIT = Path.of("../deploy/systemd/kubeos-agent.service");
  private static final Path JAR = Path.of("target/kubeos-agent.jar");

  /** What systemd does for an Accept=no socket, for {@code starts} starts; prints what it does. */
  private static final String FAKE_SYSTEMD =
      String.join(
          "\n",
          "import os, select, socket, subprocess, sys",
          "path, starts, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3:]",
          "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)",
          "s.bind(path)",
          "os.chmod(path, 0o600)",
          "s.listen(64)",
          "print('listening', flush=True)",
          "for i in range(starts):",
          "    select.select([s], [], [])  # a connection waits: start the service",
          "    print('start', flush=True)",
          "    rc = subprocess.Popen(cmd, stdin=s.fileno(), stdout=sys.stderr).wait()",
          "    print('exit', rc, flush=True)",
          "");

  @TempDir Path dir;

  @Test
  void theAgentStartsOnAConnectionAnswersAndExitsWhenIdle() throws Exception {
    Path disk = TestDisks.create(dir.resolve("disk.img"), 2, 16, 4);
    List<String> agent =
        List.of(
            "agent",
            "--disk",
            disk.toString(),
            "--boot-dir",
            dir.resolve("esp").toString(),
            "--state-dir",
            dir.resolve("state").toString(),
            "--booted-slot",
            "A");
    Process init = new ProcessBuilder(java(agent, "init", "--version", "v1")).inheritIO().start();
    assertThat(init.waitFor()).isZero();

    Path socket = dir.resolve("os-agent/os-agent.sock");
    Files.createDirectories(socket.getParent());
    Path script = Files.writeString(dir.resolve("fake-systemd.py"), FAKE_SYSTEMD);
    Path log = dir.resolve("agent.log");
    List<String> launcher =
        new ArrayList<>(List.of("python3", script.toString(), "" + socket, "2"));
    // the socket path given to serve is another one: the inherited socket must win
    launcher.addAll(
        java(agent, "serve", "--socket", dir.resolve("unused.sock").toString(), "--idle-exit=1s"));
    Process systemd =
        new ProcessBuilder(launcher)
            .redirectError(ProcessBuilder.Redirect.to(log.toFile()))
            .start();
    BlockingQueue<String> events = lines(systemd);
    try {
      assertThat(events.poll(60, TimeUnit.SECONDS)).isEqualTo("listening");
      JsonRpcClient client = new JsonRpcClient(socket, Duration.ofSeconds(60));

      JsonNode first = client.call("status");

      assertThat(first.path("bootedSlot").asText()).as(first.toString()).isEqualTo("A");
      assertThat(events.poll(60, TimeUnit.SECONDS)).isEqualTo("start");
      assertThat(events.poll(120, TimeUnit.SECONDS)).as("idle exit").isEqualTo("exit 0");

      // nothing runs now: the connection waits in the socket's backlog until the next start
      JsonNode second = client.call("status");

      assertThat(second.path("slots").path("A").path("version").asText())
          .as(second.toString())
          .isEqualTo("v1");
      assertThat(events.poll(60, TimeUnit.SECONDS)).isEqualTo("start");
      assertThat(events.poll(120, TimeUnit.SECONDS)).isEqualTo("exit 0");
      assertThat(systemd.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(systemd.exitValue()).isZero();
    } finally {
      systemd.destroyForcibly();
    }
    String agentLog = Files.readString(log);
    assertThat(agentLog.lines().filter(l -> l.contains("(socket activation, idle exit after 1 s)")))
        .as(agentLog)
        .hasSize(2);
    assertThat(agentLog).contains("listening on " + socket).doesNotContain("unused.sock");
    assertThat(dir.resolve("unused.sock")).doesNotExist();
  }

  private static BlockingQueue<String> lines(Process p) {
    BlockingQueue<String> queue = new LinkedBlockingQueue<>();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader in =
                  new BufferedReader(
                      new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                  queue.add(line);
                }
              } catch (IOException e) {
                queue.add("read failed: " + e);
              }
            },
            "fake-systemd-out");
    reader.setDaemon(true);
    reader.start();
    return queue;
  }

  /** The unit's JVM, flags and jar (without the CDS archive, whose path only exists on a node). */
  private static List<String> java(List<String> agent, String... command) throws IOException {
    List<String> argv = new ArrayList<>();
    argv.add(ProcessHandle.current().info().command().orElse("java"));
    String exec =
        Files.readAllLines(UNIT).stream()
            .filter(l -> l.startsWith("ExecStart="))
            .findFirst()
            .orElseThrow();
    for (String token : exec.split("\\s+")) {
      if (token.startsWith("-X") && !token.contains("SharedArchive")) {
        argv.add(token);
      }
    }
    argv.addAll(List.of("-jar", JAR.toString()));
    argv.addAll(agent);
    argv.addAll(Arrays.asList(command));
    return argv;
  }
}
