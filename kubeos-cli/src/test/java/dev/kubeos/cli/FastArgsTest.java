package dev.kubeos.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The fast paths of {@code agent serve} and {@code agent health} read what picocli reads, or leave
 * the line to picocli.
 */
class FastArgsTest {

  /** The settings picocli makes of a command line (the path every other command takes). */
  private static AgentServe.Settings viaPicocli(String... args) {
    CommandLine cl = new CommandLine(new AgentMain());
    CommandLine.ParseResult parsed = cl.parseArgs(args);
    ServeCommand serve = (ServeCommand) parsed.subcommand().subcommand().commandSpec().userObject();
    return serve.settings();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "agent serve",
        "agent --disk /dev/vda --booted-slot b serve --idle-exit=0",
        "agent --state-dir=/s --boot-dir /b --health-config /h --cert-dir /c --trust-dir /t"
            + " --registry-hosts-dir /r --docker-config /d --blob-cache-size 16 serve"
            + " --socket /x.sock --reboot-delay 7 --read-timeout=9 --max-connections 3"
            + " --max-connections-per-peer 2 --socket-group kubeos --file-url-dir /a"
            + " --file-url-dir=/b --download-deadline PT5M --download-min-rate 0"
            + " --download-rate-window PT10S --idle-exit 90s",
        "agent serve --idle-exit PT2M",
        "agent serve --idle-exit=500ms",
      })
  void theFastPathReadsWhatPicocliReads(String line) {
    String[] args = line.split(" ");

    AgentServe.Settings fast = FastArgs.serve(args);

    assertThat(fast).isNotNull().isEqualTo(viaPicocli(args));
  }

  @Test
  void theDefaultsAreTheCommandsDefaults() {
    AgentServe.Settings s = FastArgs.serve(new String[] {"agent", "serve"});

    assertThat(s.socket()).hasToString("/run/os-agent/os-agent.sock");
    assertThat(s.idleExit()).isEqualTo(Duration.ofSeconds(60));
    assertThat(s.agent().stateDir()).hasToString("/persist/kubeos");
    assertThat(s.agent().blobCacheBytes()).isEqualTo(2048L << 20);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "agent status",
        "agent serve --help",
        "agent -h serve",
        "agent serve --no-such-option 1",
        "agent serve --max-connections",
        "agent serve --max-connections ten",
        "agent serve --max-connections 010",
        "agent serve --download-deadline 5m",
        "agent serve --idle-exit=soon",
        "agent serve extra",
        "agent --socket /x serve",
        "serve",
        "image build x",
      })
  void anythingElseIsLeftToPicocli(String line) {
    assertThat(FastArgs.serve(line.split(" "))).isNull();
  }

  /** What picocli makes of an {@code agent ... health ...} line. */
  private static FastArgs.Health healthViaPicocli(String... args) {
    CommandLine cl = new CommandLine(new AgentMain());
    CommandLine.ParseResult parsed = cl.parseArgs(args);
    AgentCommands.Health health =
        (AgentCommands.Health) parsed.subcommand().subcommand().commandSpec().userObject();
    return new FastArgs.Health(health.parent.options(), health.noReboot);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "agent health",
        "agent health --no-reboot",
        "agent --disk /dev/vda --booted-slot b --health-config=/h health",
        "agent --state-dir=/s --boot-dir /b --cert-dir /c --trust-dir /t"
            + " --registry-hosts-dir /r --docker-config /d --blob-cache-size 16 health --no-reboot",
      })
  void theHealthFastPathReadsWhatPicocliReads(String line) {
    String[] args = line.split(" ");

    FastArgs.Health fast = FastArgs.health(args);

    assertThat(fast).isNotNull().isEqualTo(healthViaPicocli(args));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "agent status",
        "agent health --help",
        "agent -h health",
        "agent health --no-reboot --no-reboot",
        "agent health --no-reboot=true",
        "agent health --no-such-flag",
        "agent health extra",
        "agent --disk health",
        "agent --blob-cache-size 010 health",
        "agent serve",
        "health",
      })
  void anyOtherHealthLineIsLeftToPicocli(String line) {
    assertThat(FastArgs.health(line.split(" "))).isNull();
  }

  /** A new option of `agent` or `agent health` must be taught to the fast path too. */
  @Test
  void theHealthFastPathKnowsEveryOptionOfAgentAndHealth() {
    CommandLine agent = new CommandLine(new AgentMain()).getSubcommands().get("agent");
    CommandLine health = agent.getSubcommands().get("health");
    Set<String> help = Set.of("-h", "--help", "-V", "--version");
    for (OptionSpec o : agent.getCommandSpec().options()) {
      if (!help.contains(o.longestName())) {
        String[] line = {"agent", o.longestName() + "=" + sample(o.longestName()), "health"};
        assertThat(FastArgs.health(line)).as(String.join(" ", line)).isNotNull();
      }
    }
    assertThat(
            health.getCommandSpec().options().stream()
                .map(OptionSpec::longestName)
                .filter(n -> !help.contains(n)))
        .containsExactly("--no-reboot");
  }

  /** A new option of `agent` or `agent serve` must be taught to the fast path too. */
  @Test
  void theFastPathKnowsEveryOptionOfAgentAndServe() {
    CommandLine agent = new CommandLine(new AgentMain()).getSubcommands().get("agent");
    CommandLine serve = agent.getSubcommands().get("serve");
    Set<String> help = Set.of("-h", "--help", "-V", "--version");
    for (CommandLine c : List.of(agent, serve)) {
      Set<String> names =
          c.getCommandSpec().options().stream()
              .map(OptionSpec::longestName)
              .filter(n -> !help.contains(n))
              .collect(Collectors.toCollection(TreeSet::new));
      for (String name : names) {
        String[] line =
            c == agent
                ? new String[] {"agent", name + "=" + sample(name), "serve"}
                : new String[] {"agent", "serve", name + "=" + sample(name)};
        assertThat(FastArgs.serve(line)).as(String.join(" ", line)).isNotNull();
      }
    }
  }

  private static String sample(String option) {
    switch (option) {
      case "--booted-slot":
        return "A";
      case "--download-deadline":
      case "--download-rate-window":
        return "PT1M";
      case "--idle-exit":
        return "30s";
      case "--socket-group":
        return "kubeos";
      default:
        return option.contains("dir")
                || option.contains("config")
                || option.equals("--disk")
                || option.equals("--socket")
            ? "/p"
            : "1";
    }
  }
}
