package dev.kubeos.agent.stage;

import dev.kubeos.agent.disk.DiskLayout;
import dev.kubeos.agent.port.BlockDevice;
import dev.kubeos.agent.port.CommandRunner;
import dev.kubeos.api.agent.Slot;
import java.io.IOException;

/**
 * The slot a payload writer writes into, and what it may read and report while it does.
 *
 * @param version the OS version being staged, for messages
 * @param disk the node's disk, open for writing
 * @param layout the disk's partitions
 * @param slot the slot written (the inactive one)
 * @param seed the booted slot, read-only: what a delta copies chunks from
 * @param beforeFirstWrite runs once, right before the first byte lands in {@code slot}
 * @param progress payload bytes processed
 */
public record TargetSlot(
    String version,
    BlockDevice disk,
    DiskLayout layout,
    Slot slot,
    Slot seed,
    Runnable beforeFirstWrite,
    ProgressListener progress) {

  /** The slot as a device whose first write runs {@link #beforeFirstWrite}. */
  public BlockDevice openForWriting() throws IOException {
    return new FirstWriteGuard(layout.openSlot(disk, slot), beforeFirstWrite);
  }

  /** The seed slot. */
  public BlockDevice openSeed() throws IOException {
    return layout.openSlot(disk, seed);
  }

  /**
   * {@code commands} whose first run runs {@link #beforeFirstWrite} (mkfs.ext4 writes the slot).
   */
  public CommandRunner guard(CommandRunner commands) {
    return FirstWriteGuard.commands(commands, beforeFirstWrite);
  }

  /** Byte offset of the slot on the disk. */
  public long offset() {
    return layout.slotOffset(slot);
  }

  /** Size of the slot in bytes. */
  public long size() {
    return layout.slotSize(slot);
  }
}
