package dev.kubeos.cli;

import dev.kubeos.agent.host.AgentOptions;
import dev.kubeos.api.agent.AgentMethods;
import dev.kubeos.api.agent.Slot;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The fast path of {@code kubeos agent [OPTIONS] serve [OPTIONS]}: reads exactly the options {@link
 * AgentCommand} and {@link ServeCommand} define, with the same defaults, without building picocli's
 * model of every agent command (a few hundred milliseconds of a socket-activated start, where every
 * request after an idle exit pays the start). Anything else (help, an unknown or malformed option,
 * another command) returns null and goes through picocli as before, which also gives the error
 * messages. ServeArgsTest checks that both paths agree.
 */
final class ServeArgs {
  private ServeArgs() {}

  /** The settings, or null when this is not a well-formed {@code agent ... serve ...} line. */
  static AgentServe.Settings parse(String[] args) {
    if (args.length < 2 || !args[0].equals("agent")) {
      return null;
    }
    Values v = new Values();
    boolean serve = false;
    for (int i = 1; i < args.length; i++) {
      String arg = args[i];
      if (!serve && arg.equals("serve")) {
        serve = true;
        continue;
      }
      if (!arg.startsWith("--")) {
        return null;
      }
      String name = arg;
      String value;
      int eq = arg.indexOf('=');
      if (eq > 0) {
        name = arg.substring(0, eq);
        value = arg.substring(eq + 1);
      } else if (i + 1 < args.length) {
        value = args[++i];
      } else {
        return null;
      }
      try {
        if (!(serve ? v.serveOption(name, value) : v.agentOption(name, value))) {
          return null;
        }
      } catch (RuntimeException malformed) {
        return null; // picocli says what is wrong with it
      }
    }
    if (!serve) {
      return null;
    }
    try {
      return v.settings();
    } catch (RuntimeException e) {
      return null;
    }
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

    AgentServe.Settings settings() {
      if (maxConnections > Integer.MAX_VALUE || maxPerPeer > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("too large");
      }
      return new AgentServe.Settings(
          new AgentOptions(
              disk,
              bootDir,
              stateDir,
              bootedSlot,
              healthConfig,
              certDir,
              trustDir,
              registryHostsDir,
              dockerConfig,
              blobCacheMiB << 20),
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
