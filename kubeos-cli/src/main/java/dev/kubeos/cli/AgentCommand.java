package dev.kubeos.cli;

import dev.kubeos.agent.Agent;
import dev.kubeos.agent.host.AgentOptions;
import dev.kubeos.agent.host.HostAgents;
import dev.kubeos.api.agent.Slot;
import java.nio.file.Path;
import java.time.Clock;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code kubeos agent ...}: the host agent that owns the node's disk. */
@Command(
    name = "agent",
    mixinStandardHelpOptions = true,
    description = "Host agent: stage, activate, commit and roll back OS versions on this node.",
    subcommands = {
      AgentCommands.Init.class,
      AgentCommands.Status.class,
      AgentCommands.Stage.class,
      AgentCommands.Activate.class,
      AgentCommands.EtcPlan.class,
      AgentCommands.Commit.class,
      AgentCommands.Rollback.class,
      AgentCommands.Health.class,
      ConfigureCommand.class,
      ServeCommand.class
    })
public final class AgentCommand implements Runnable {
  // the defaults, shared with the fast paths of `agent serve` and `agent health` (FastArgs)
  static final String DEFAULT_BOOT_DIR = "/boot/efi";
  static final String DEFAULT_STATE_DIR = "/persist/kubeos";
  static final String DEFAULT_HEALTH_CONFIG = "/etc/KubeOS/health.json";
  static final String DEFAULT_CERT_DIR = "/etc/KubeOS/certs";
  static final String DEFAULT_TRUST_DIR = "/etc/KubeOS/trust";
  static final String DEFAULT_REGISTRY_HOSTS_DIR = "/etc/containerd/certs.d";
  static final String DEFAULT_DOCKER_CONFIG = "/root/.docker/config.json";
  static final String DEFAULT_BLOB_CACHE_MIB = "2048";

  @Option(
      names = "--disk",
      paramLabel = "PATH",
      description =
          "Block device or disk image holding the GPT (default: the disk of the running root).")
  Path disk;

  @Option(
      names = "--boot-dir",
      paramLabel = "DIR",
      description = "Where the ESP is mounted (default: ${DEFAULT-VALUE}).",
      defaultValue = DEFAULT_BOOT_DIR)
  Path bootDir;

  @Option(
      names = "--state-dir",
      paramLabel = "DIR",
      description = "Agent state on PERSIST (default: ${DEFAULT-VALUE}).",
      defaultValue = DEFAULT_STATE_DIR)
  Path stateDir;

  @Option(
      names = "--booted-slot",
      paramLabel = "A|B",
      converter = SlotConverter.class,
      description =
          "Override the booted slot (default: kubeos.slot= or root=PARTUUID= of /proc/cmdline).")
  Slot bootedSlot;

  @Option(
      names = "--health-config",
      paramLabel = "FILE",
      description = "Post-boot health checks (default: ${DEFAULT-VALUE}; missing file: no checks).",
      defaultValue = DEFAULT_HEALTH_CONFIG)
  Path healthConfig;

  @Option(
      names = "--cert-dir",
      paramLabel = "DIR",
      description =
          "Where upstream's cacert/clientcert/clientkey names resolve (default: ${DEFAULT-VALUE}).",
      defaultValue = DEFAULT_CERT_DIR)
  Path certDir;

  @Option(
      names = "--trust-dir",
      paramLabel = "DIR",
      description =
          "Trust policy for payload signatures: policy.json and the keys it names"
              + " (default: ${DEFAULT-VALUE}; no policy.json: signatures not checked).",
      defaultValue = DEFAULT_TRUST_DIR)
  Path trustDir;

  @Option(
      names = "--registry-hosts-dir",
      paramLabel = "DIR",
      description =
          "containerd registry host configuration, <DIR>/<registry>/hosts.toml: mirrors, CA,"
              + " client certificates (default: ${DEFAULT-VALUE}).",
      defaultValue = DEFAULT_REGISTRY_HOSTS_DIR)
  Path registryHostsDir;

  @Option(
      names = "--docker-config",
      paramLabel = "FILE",
      description = "docker config.json with registry credentials (default: ${DEFAULT-VALUE}).",
      defaultValue = DEFAULT_DOCKER_CONFIG)
  Path dockerConfig;

  @Option(
      names = "--blob-cache-size",
      paramLabel = "MIB",
      description =
          "Size bound of the layer cache under <state-dir>/blobs in MiB (default: ${DEFAULT-VALUE}).",
      defaultValue = DEFAULT_BLOB_CACHE_MIB)
  long blobCacheMiB;

  Agent agent() {
    return HostAgents.create(options(), Clock.systemUTC());
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

  @Override
  public void run() {
    picocli.CommandLine.usage(this, System.out);
  }

  /** Parses A/B in any case. */
  static final class SlotConverter implements picocli.CommandLine.ITypeConverter<Slot> {
    @Override
    public Slot convert(String value) {
      return Slot.parse(value);
    }
  }
}
