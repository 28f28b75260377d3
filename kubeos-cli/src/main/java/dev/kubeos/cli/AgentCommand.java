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
      defaultValue = "/boot/efi")
  Path bootDir;

  @Option(
      names = "--state-dir",
      paramLabel = "DIR",
      description = "Agent state on PERSIST (default: ${DEFAULT-VALUE}).",
      defaultValue = "/persist/kubeos")
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
      defaultValue = "/etc/KubeOS/health.json")
  Path healthConfig;

  @Option(
      names = "--cert-dir",
      paramLabel = "DIR",
      description =
          "Where upstream's cacert/clientcert/clientkey names resolve (default: ${DEFAULT-VALUE}).",
      defaultValue = "/etc/KubeOS/certs")
  Path certDir;

  @Option(
      names = "--trust-dir",
      paramLabel = "DIR",
      description =
          "Trust policy for payload signatures: policy.json and the keys it names"
              + " (default: ${DEFAULT-VALUE}; no policy.json: signatures not checked).",
      defaultValue = "/etc/KubeOS/trust")
  Path trustDir;

  @Option(
      names = "--registry-hosts-dir",
      paramLabel = "DIR",
      description =
          "containerd registry host configuration, <DIR>/<registry>/hosts.toml: mirrors, CA,"
              + " client certificates (default: ${DEFAULT-VALUE}).",
      defaultValue = "/etc/containerd/certs.d")
  Path registryHostsDir;

  @Option(
      names = "--docker-config",
      paramLabel = "FILE",
      description = "docker config.json with registry credentials (default: ${DEFAULT-VALUE}).",
      defaultValue = "/root/.docker/config.json")
  Path dockerConfig;

  @Option(
      names = "--blob-cache-size",
      paramLabel = "MIB",
      description =
          "Size bound of the layer cache under <state-dir>/blobs in MiB (default: ${DEFAULT-VALUE}).",
      defaultValue = "2048")
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
