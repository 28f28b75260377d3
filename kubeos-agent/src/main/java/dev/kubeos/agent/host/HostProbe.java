package dev.kubeos.agent.host;

import dev.kubeos.agent.disk.DiskLayout;
import dev.kubeos.agent.disk.FileBlockDevice;
import dev.kubeos.agent.model.KernelCmdline;
import dev.kubeos.agent.port.BlockDevice;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.api.agent.Slot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.UUID;

/**
 * Finds, on a running node, the disk and the booted slot: from the kernel command line and the
 * sysfs block-device topology, never from patterns in device names.
 */
public final class HostProbe {
  private final Path procCmdline;
  private final Path devRoot;
  private final Path sysClassBlock;

  public HostProbe() {
    this(Path.of("/proc/cmdline"), Path.of("/dev"), Path.of("/sys/class/block"));
  }

  HostProbe(Path procCmdline, Path devRoot, Path sysClassBlock) {
    this.procCmdline = procCmdline;
    this.devRoot = devRoot;
    this.sysClassBlock = sysClassBlock;
  }

  public String cmdline() {
    try {
      return Files.readString(procCmdline).strip();
    } catch (IOException e) {
      return "";
    }
  }

  /** The whole disk holding the root partition named by {@code root=PARTUUID=}. */
  public Path rootDisk() {
    String cmdline = cmdline();
    UUID partUuid =
        KernelCmdline.rootPartUuid(cmdline)
            .orElseThrow(
                () ->
                    new AgentException(
                        ErrorCode.INVALID_REQUEST,
                        "cannot find the node's disk: the kernel command line has no"
                            + " root=PARTUUID=...; pass --disk PATH"));
    try {
      Path partition =
          devRoot.resolve("disk/by-partuuid").resolve(partUuid.toString()).toRealPath();
      // /sys/class/block/<partition> links into .../block/<disk>/<partition>
      Path sys = sysClassBlock.resolve(partition.getFileName().toString()).toRealPath();
      if (!Files.exists(sys.resolve("partition"))) {
        throw new IOException(partition + " is not a partition");
      }
      return devRoot.resolve(sys.getParent().getFileName().toString());
    } catch (IOException e) {
      throw new AgentException(
          ErrorCode.DISK_LAYOUT,
          "cannot resolve the root partition PARTUUID "
              + partUuid
              + " to its disk ("
              + e.getMessage()
              + "); pass --disk PATH",
          e);
    }
  }

  /**
   * The booted slot: {@code kubeos.slot=} on the kernel command line, else the slot whose GPT
   * partition GUID is the root PARTUUID.
   */
  public Slot bootedSlot(Path disk) {
    String cmdline = cmdline();
    Optional<Slot> named = KernelCmdline.bootedSlot(cmdline);
    if (named.isPresent()) {
      return named.get();
    }
    Optional<UUID> root = KernelCmdline.rootPartUuid(cmdline);
    if (root.isPresent()) {
      try (BlockDevice device = FileBlockDevice.open(disk, false)) {
        Optional<Slot> slot = DiskLayout.read(device, disk.toString()).slotOfPartUuid(root.get());
        if (slot.isPresent()) {
          return slot.get();
        }
      } catch (IOException e) {
        throw new AgentException(
            ErrorCode.IO_ERROR, "cannot read " + disk + ": " + e.getMessage(), e);
      }
    }
    throw new AgentException(
        ErrorCode.INVALID_REQUEST,
        "cannot tell the booted slot: the kernel command line has neither kubeos.slot= nor a"
            + " root=PARTUUID= of ROOT-A/ROOT-B; pass --booted-slot A|B");
  }
}
