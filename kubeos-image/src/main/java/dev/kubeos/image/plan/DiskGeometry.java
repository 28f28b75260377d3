package dev.kubeos.image.plan;

import java.util.List;
import java.util.UUID;

/**
 * The GPT layout of {@code disk.img}, in 512-byte sectors: ESP, ROOT-A, ROOT-B, PERSIST in this
 * order (GPT indexes 1..4, the boot contract's names), 1 MiB aligned, 1 MiB free at the end for the
 * backup GPT. Identifiers are derived from the version, so a plan is reproducible.
 *
 * @param totalSectors size of the disk image
 * @param partitions the four partitions
 * @param diskGuid GPT disk GUID
 * @param espVolumeId FAT volume id, 8 hex digits (GRUB finds the ESP as {@code XXXX-XXXX})
 * @param rootFsUuid ext4 UUID of the root file systems (ROOT-A and the raw payload)
 * @param persistFsUuid ext4 UUID of PERSIST
 */
public record DiskGeometry(
    long totalSectors,
    List<Partition> partitions,
    UUID diskGuid,
    String espVolumeId,
    UUID rootFsUuid,
    UUID persistFsUuid) {

  public static final int SECTOR = 512;
  static final long MIB_SECTORS = 1024 * 1024 / SECTOR;

  /**
   * One GPT partition.
   *
   * @param number GPT index (1-based)
   * @param name GPT partition name
   * @param typeCode sgdisk type code (EF00 ESP, 8304 Linux x86-64 root, 8300 Linux data)
   * @param firstSector first sector
   * @param sectors size in sectors
   * @param partUuid unique partition GUID (the kernel's root=PARTUUID=)
   */
  public record Partition(
      int number, String name, String typeCode, long firstSector, long sectors, UUID partUuid) {
    public long offsetBytes() {
      return firstSector * SECTOR;
    }

    public long sizeBytes() {
      return sectors * SECTOR;
    }

    public long lastSector() {
      return firstSector + sectors - 1;
    }
  }

  public DiskGeometry {
    partitions = List.copyOf(partitions);
  }

  /** Lays out the four partitions with the given sizes in MiB. */
  public static DiskGeometry layout(String version, int espMib, int rootMib, int persistMib) {
    String[] names = {"ESP", "ROOT-A", "ROOT-B", "PERSIST"};
    String[] types = {"EF00", "8304", "8304", "8300"};
    int[] sizes = {espMib, rootMib, rootMib, persistMib};
    List<Partition> parts = new java.util.ArrayList<>();
    long next = MIB_SECTORS;
    for (int i = 0; i < names.length; i++) {
      long sectors = sizes[i] * MIB_SECTORS;
      parts.add(
          new Partition(i + 1, names[i], types[i], next, sectors, id(version, "part-" + names[i])));
      next += sectors;
    }
    String vol = id(version, "esp-fat").toString().replace("-", "").substring(0, 8);
    return new DiskGeometry(
        next + MIB_SECTORS,
        parts,
        id(version, "disk"),
        vol.toUpperCase(java.util.Locale.ROOT),
        id(version, "fs-root"),
        id(version, "fs-persist"));
  }

  private static UUID id(String version, String role) {
    return UUID.nameUUIDFromBytes(
        ("kubeos-image:" + version + ":" + role).getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  public Partition partition(String name) {
    return partitions.stream()
        .filter(p -> p.name().equals(name))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no partition " + name));
  }

  /** The ESP's FAT volume id as GRUB's {@code search --fs-uuid} spells it: {@code XXXX-XXXX}. */
  public String espFsUuid() {
    return espVolumeId.substring(0, 4) + "-" + espVolumeId.substring(4);
  }

  public long sizeBytes() {
    return totalSectors * SECTOR;
  }
}
