package dev.kubeos.agent.host;

import dev.kubeos.agent.Agent;
import dev.kubeos.agent.boot.BootEnv;
import dev.kubeos.agent.boot.FileBootEnvStore;
import dev.kubeos.agent.etc.EtcMerge;
import dev.kubeos.agent.etc.EtcSlotDirs;
import dev.kubeos.agent.etc.EtcUpperWriter;
import dev.kubeos.agent.etc.HostEtcViews;
import dev.kubeos.agent.health.HealthChecker;
import dev.kubeos.agent.health.HealthConfig;
import dev.kubeos.agent.oci.OciImages;
import dev.kubeos.agent.payload.PayloadSources;
import dev.kubeos.agent.port.CommandRunner;
import dev.kubeos.agent.port.EtcCarrier;
import dev.kubeos.agent.settings.SettingsEngine;
import dev.kubeos.agent.settings.SettingsPolicy;
import dev.kubeos.agent.settings.SettingsWriter;
import dev.kubeos.agent.state.JsonStateStore;
import dev.kubeos.agent.trust.DetachedSignatureSource;
import dev.kubeos.agent.trust.PayloadSignatureSource;
import dev.kubeos.agent.trust.PolicyTrustGate;
import dev.kubeos.agent.trust.RegistrySignatureSource;
import dev.kubeos.api.Json;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.api.agent.EtcMergeStatus;
import dev.kubeos.api.agent.Slot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;

/** Wires the agent to the real host: files, block devices, systemd, mkfs.ext4, HTTP. */
public final class HostAgents {
  private HostAgents() {}

  public static Agent create(AgentOptions options, Clock clock) {
    HostProbe probe = new HostProbe();
    Path disk = options.disk() != null ? options.disk() : probe.rootDisk();
    if (!Files.exists(disk)) {
      throw new AgentException(ErrorCode.INVALID_REQUEST, "disk " + disk + " does not exist");
    }
    Slot booted = options.bootedSlot() != null ? options.bootedSlot() : probe.bootedSlot(disk);
    return create(options, clock, disk, booted, Path.of("/"), true);
  }

  /**
   * An agent for {@code configure} only: settings paths re-based under {@code root}; the disk and
   * the booted slot are used when they can be found (the grub models need the booted slot).
   */
  public static Agent forSettings(AgentOptions options, Clock clock, Path root) {
    HostProbe probe = new HostProbe();
    Path disk = options.disk();
    Slot booted = options.bootedSlot();
    try {
      disk = disk != null ? disk : probe.rootDisk();
      booted = booted != null ? booted : probe.bootedSlot(disk);
    } catch (RuntimeException e) {
      // configure does not touch the disk; grub models report the unknown booted slot
    }
    return create(options, clock, disk == null ? Path.of("/dev/null") : disk, booted, root, false);
  }

  private static Agent create(
      AgentOptions options,
      Clock clock,
      Path disk,
      Slot booted,
      Path settingsRoot,
      boolean carryEtc) {
    CommandRunner commands = new ProcessCommandRunner();
    Path stateDir = options.stateDir();
    BootEnv bootEnv = new BootEnv(new FileBootEnvStore(options.bootDir()));
    EtcCarrier etc = carryEtc ? etcCarrier(commands, disk, stateDir, clock) : EtcCarrier.NONE;
    return new Agent(
        new Agent.Deps(
            new FileDiskOpener(disk),
            bootEnv,
            new JsonStateStore(stateDir),
            new FileOperationLock(stateDir, clock),
            booted,
            clock,
            new SystemdRebooter(commands),
            commands,
            PayloadSources::open,
            stateDir.resolve("work"),
            new HealthChecker(loadHealthConfig(options.healthConfig()), commands, clock),
            new SettingsEngine(
                settingsRoot,
                stateDir,
                bootEnv,
                booted,
                SettingsWriter.ATOMIC,
                clock,
                () -> SettingsPolicy.load(SettingsPolicy.FILE)),
            new PolicyTrustGate(
                options.trustDir(),
                new PayloadSignatureSource(
                    new RegistrySignatureSource(options.registry()),
                    new DetachedSignatureSource())),
            new OciImages(options.registry(), options.blobCache())),
        etc);
  }

  /**
   * The /etc merge when this host is a KubeOS node (its /etc is the overlay the initramfs hook
   * mounts, upper dirs under {@code /persist/etc}); otherwise (a disk image driven from outside)
   * nothing to carry. The report file is read either way.
   */
  private static EtcCarrier etcCarrier(
      CommandRunner commands, Path disk, Path stateDir, Clock clock) {
    Path reportFile = EtcMerge.reportFile(stateDir);
    EtcSlotDirs dirs = new EtcSlotDirs(Path.of("/persist/etc"));
    EtcMerge.Views views =
        new HostEtcViews(
            commands,
            new FileDiskOpener(disk),
            Path.of("/"),
            Path.of("/run/kubeos/etc-merge"),
            Path.of("/etc"));
    EtcMerge merge = new EtcMerge(views, dirs, reportFile, new EtcUpperWriter(commands), clock);
    if (etcOverlayMounted()) {
      return merge;
    }
    return new EtcCarrier() {
      @Override
      public EtcMergeStatus carry(Slot from, Slot to, String toVersion) throws IOException {
        return EtcCarrier.NONE.carry(from, to, toVersion);
      }

      @Override
      public EtcMergeStatus preview(Slot from, Slot to, String toVersion) throws IOException {
        return EtcCarrier.NONE.preview(from, to, toVersion);
      }

      @Override
      public Optional<EtcMergeStatus> lastReport() throws IOException {
        return merge.lastReport();
      }
    };
  }

  private static boolean etcOverlayMounted() {
    try {
      return HostEtcViews.etcIsOverlay(Files.readString(Path.of("/proc/self/mountinfo")));
    } catch (IOException e) {
      return false;
    }
  }

  /** Reads the health check file; a missing file means no checks beyond "the agent runs". */
  public static HealthConfig loadHealthConfig(Path file) {
    if (file == null || !Files.exists(file)) {
      return new HealthConfig(null, null, null);
    }
    try {
      return Json.mapper().readValue(file.toFile(), HealthConfig.class);
    } catch (IOException | IllegalArgumentException e) {
      throw new AgentException(
          ErrorCode.INVALID_REQUEST,
          "health check file " + file + " is invalid: " + e.getMessage(),
          e);
    }
  }
}
