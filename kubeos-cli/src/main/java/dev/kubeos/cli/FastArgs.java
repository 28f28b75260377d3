package dev.kubeos.cli;

import dev.kubeos.agent.host.AgentOptions;
import dev.kubeos.api.agent.AgentMethods;
import dev.kubeos.api.agent.Slot;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiPredicate;

/**
 * The fast paths of the two commands systemd starts on every node: {@code kubeos agent [OPTIONS]
 * serve [OPTIONS]} (the socket-activated daemon, where every request after an idle exit pays the
 * start) and {@code kubeos agent [OPTIONS] health [--no-reboot]} (the post-boot gate, a cold start
 * on every boot that a trial's commit waits for). Reads exactly the options {@link AgentCommand},
 * {@link ServeCommand} and {@code health} define, with the same defaults, without building
 * picocli's model of every agent command (a few hundred milliseconds on a host, seconds on a slow
 * or emulated CPU: docs/benchmarks.md). Anything else (help, an unknown or malformed option,
 * another command) returns null and goes through picocli as before, which also gives the error
 * messages. FastArgsTest checks that both paths agree.
 */
final class FastArgs {
  private FastArgs() {}

  /** {@code agent [OPTIONS] health [--no-reboot]}: the agent's options and the flag. */
  record Health(AgentOptions agent, boolean noReboot) {}

  /** The settings, or null when this is not a well-formed {@code agent ... serve ...} line. */
  static AgentServe.Settings serve(String[] args) {
    Values v = new Values();
    if (!read(args, "serve", v, v::serveOption)) {
      return null;
    }
    try {
      return v.settings();
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** The gate's line, or null when this is not a well-formed {@code agent ... health ...} line. */
  static Health health(String[] args) {
    Values v = new Values();
    boolean[] noReboot = {false};
    BiPredicate<String, String> flag =
        (name, value) -> {
          if (!name.equals("--no-reboot") || value != null || noReboot[0]) {
            return false;
          }
          noReboot[0] = true;
          return true;
        };
    return read(args, "health", v, flag) ? new Health(v.options(), noReboot[0]) : null;
  }

  /**
   * Reads {@code agent [agent options] COMMAND [command options]} into {@code v}: false for any
   * other line. {@code commandOption} gets each option after the command; an option without {@code
   * =} is first offered with a null value (true: a flag, taken), then with the next argument as its
   * value.
   */
  private static boolean read(
      String[] args, String command, Values v, BiPredicate<String, String> commandOption) {
    if (args.length < 2 || !args[0].equals("agent")) {
      return false;
    }
    boolean seen = false;
    for (int i = 1; i < args.length; i++) {
      String arg = args[i];
      if (!seen && arg.equals(command)) {
        seen = true;
        continue;
      }
      if (!arg.startsWith("--")) {
        return false;
      }
      String name = arg;
      String value = null;
      int eq = arg.indexOf('=');
      if (eq > 0) {
        name = arg.substring(0, eq);
        value = arg.substring(eq + 1);
      }
      try {
        if (seen && value == null && commandOption.test(name, null)) {
          continue; // a flag
        }
        if (value == null) {
          if (i + 1 >= args.length) {
            return false;
          }
          value = args[++i];
        }
        if (!(seen ? commandOption.test(name, value) : v.agentOption(name, value))) {
          return false;
        }
      } catch (RuntimeException malformed) {
        return false; // picocli says what is wrong with it
      }
    }
    return seen;
  }

  /** The options read so far, starting from the commands' defaults. */
  private static final class Values {
    Path disk;
    Path bootDir = Path.of(AgentCommand.DEFAULT_BOOT_DIR);
    Path stateDir = Path.of(AgentCommand.DEFAULT_STATE_DIR);
    Slot bootedSlot;
    Path healthConfig = Path.of(AgentCommand.DEFAULT_HEALTH_CONFIG);
    Path certDir = Path.of(AgentCommand.DEFAULT_CERT_DIR);
    Path trustDir = Path.of(AgentCommand.DEFAULT_TRUST_DIR);
    Path registryHostsDir = Path.of(AgentCommand.DEFAULT_REGISTRY_HOSTS_DIR);
    Path dockerConfig = Path.of(AgentCommand.DEFAULT_DOCKER_CONFIG);
    long blobCacheMiB = number(AgentCommand.DEFAULT_BLOB_CACHE_MIB);
    Path socket = Path.of(AgentMethods.DEFAULT_SOCKET);
    long rebootDelay = number(ServeCommand.DEFAULT_REBOOT_DELAY);
    long readTimeout = number(ServeCommand.DEFAULT_READ_TIMEOUT);
    long maxConnections = number(ServeCommand.DEFAULT_MAX_CONNECTIONS);
    long maxPerPeer = number(ServeCommand.DEFAULT_MAX_CONNECTIONS_PER_PEER);
    String socketGroup;
    final List<Path> fileUrlDirs = new ArrayList<>();
    Duration downloadDeadline = Duration.parse(ServeCommand.DEFAULT_DOWNLOAD_DEADLINE);
    long downloadMinRate = number(ServeCommand.DEFAULT_DOWNLOAD_MIN_RATE);
    Duration downloadRateWindow = Duration.parse(ServeCommand.DEFAULT_DOWNLOAD_RATE_WINDOW);
    Duration idleExit = AgentServe.parseIdle(AgentServe.DEFAULT_IDLE_EXIT);

    boolean agentOption(String name, String value) {
      switch (name) {
        case "--disk":
          disk = Path.of(value);
          return true;
        case "--boot-dir":
          bootDir = Path.of(value);
          return true;
        case "--state-dir":
          stateDir = Path.of(value);
          return true;
        case "--booted-slot":
          bootedSlot = Slot.parse(value);
          return true;
        case "--health-config":
          healthConfig = Path.of(value);
          return true;
        case "--cert-dir":
          certDir = Path.of(value);
          return true;
        case "--trust-dir":
          trustDir = Path.of(value);
          return true;
        case "--registry-hosts-dir":
          registryHostsDir = Path.of(value);
          return true;
        case "--docker-config":
          dockerConfig = Path.of(value);
          return true;
        case "--blob-cache-size":
          blobCacheMiB = number(value);
          return true;
        default:
          return false;
      }
    }

    boolean serveOption(String name, String value) {
      if (value == null) {
        return false; // serve has no flags
      }
      switch (name) {
        case "--socket":
          socket = Path.of(value);
          return true;
        case "--reboot-delay":
          rebootDelay = number(value);
          return true;
        case "--read-timeout":
          readTimeout = number(value);
          return true;
        case "--max-connections":
          maxConnections = number(value);
          return true;
        case "--max-connections-per-peer":
          maxPerPeer = number(value);
          return true;
        case "--socket-group":
          socketGroup = value;
          return true;
        case "--file-url-dir":
          fileUrlDirs.add(Path.of(value));
          return true;
        case "--download-deadline":
          downloadDeadline = Duration.parse(value);
          return true;
        case "--download-min-rate":
          downloadMinRate = number(value);
          return true;
        case "--download-rate-window":
          downloadRateWindow = Duration.parse(value);
          return true;
        case "--idle-exit":
          idleExit = AgentServe.parseIdle(value);
          return true;
        default:
          return false;
      }
    }

    AgentOptions options() {
      return new AgentOptions(
          disk,
          bootDir,
          stateDir,
          bootedSlot,
          healthConfig,
          certDir,
          trustDir,
          registryHostsDir,
          dockerConfig,
          blobCacheMiB << 20);
    }

    AgentServe.Settings settings() {
      if (maxConnections > Integer.MAX_VALUE || maxPerPeer > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("too large");
      }
      return new AgentServe.Settings(
          options(),
          socket,
          rebootDelay,
          readTimeout,
          (int) maxConnections,
          (int) maxPerPeer,
          socketGroup,
          fileUrlDirs,
          downloadDeadline,
          downloadMinRate,
          downloadRateWindow,
          idleExit);
    }
  }

  /** A plain decimal number (no sign, no leading zero, no radix prefix): otherwise picocli's. */
  private static long number(String text) {
    boolean plain = !text.isEmpty() && !(text.length() > 1 && text.charAt(0) == '0');
    for (int i = 0; plain && i < text.length(); i++) {
      plain = text.charAt(i) >= '0' && text.charAt(i) <= '9';
    }
    if (!plain) {
      throw new IllegalArgumentException("not a plain number: " + text);
    }
    return Long.parseLong(text);
  }
}
