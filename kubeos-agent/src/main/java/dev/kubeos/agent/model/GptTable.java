package dev.kubeos.agent.model;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

/**
 * A parsed GUID partition table.
 *
 * @param diskGuid the disk GUID from the header that was used
 * @param sectorSize logical sector size the table was read with (512 or 4096)
 * @param diskSizeBytes size of the whole disk in bytes
 * @param partitions the used entries (non-zero type GUID), in entry-array order
 * @param primaryValid whether the primary header (LBA 1) and its entry array passed all checks
 * @param backupValid whether the backup header (last LBA) and its entry array passed all checks
 */
public record GptTable(
    UUID diskGuid,
    int sectorSize,
    long diskSizeBytes,
    List<GptPartition> partitions,
    boolean primaryValid,
    boolean backupValid) {

  public GptTable {
    Objects.requireNonNull(diskGuid, "diskGuid");
    partitions = List.copyOf(partitions);
  }

  /** The first partition whose name equals {@code name} exactly. */
  public Optional<GptPartition> byName(String name) {
    return partitions.stream().filter(p -> p.name().equals(name)).findFirst();
  }

  /** The partition with this unique GUID ({@code PARTUUID}). */
  public Optional<GptPartition> byUniqueGuid(UUID guid) {
    return partitions.stream().filter(p -> p.uniqueGuid().equals(guid)).findFirst();
  }
}
