package dev.kubeos.agent.model;

import java.util.Objects;
import java.util.UUID;

/**
 * One used entry of a GPT partition-entry array.
 *
 * @param number 1-based index of the entry in the array (the kernel's partition number)
 * @param name the partition name, decoded from UTF-16LE, cut at the first NUL
 * @param typeGuid the partition type GUID, in the textual form printed by {@code sgdisk -i}
 * @param uniqueGuid the unique partition GUID ({@code PARTUUID})
 * @param firstLba first sector of the partition (inclusive)
 * @param lastLba last sector of the partition (inclusive)
 * @param attributes the 64-bit attribute field
 */
public record GptPartition(
    int number,
    String name,
    UUID typeGuid,
    UUID uniqueGuid,
    long firstLba,
    long lastLba,
    long attributes) {

  public GptPartition {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(typeGuid, "typeGuid");
    Objects.requireNonNull(uniqueGuid, "uniqueGuid");
  }

  /** Byte offset of the partition from the start of the disk. */
  public long offsetBytes(int sectorSize) {
    return Math.multiplyExact(firstLba, (long) sectorSize);
  }

  /** Size of the partition in bytes ({@code lastLba - firstLba + 1} sectors). */
  public long sizeBytes(int sectorSize) {
    return Math.multiplyExact(lastLba - firstLba + 1, (long) sectorSize);
  }
}
