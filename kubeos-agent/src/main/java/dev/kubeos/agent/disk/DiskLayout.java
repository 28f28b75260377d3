package dev.kubeos.agent.disk;

import dev.kubeos.agent.model.GptParser;
import dev.kubeos.agent.model.GptPartition;
import dev.kubeos.agent.model.GptTable;
import dev.kubeos.agent.port.BlockDevice;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.api.agent.Slot;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * The boot contract's view of a disk: the GPT partitions named {@code ROOT-A}, {@code ROOT-B}
 * (required), {@code ESP} and {@code PERSIST} (optional). Slots are found by GPT partition name
 * only, never guessed from device names or partition numbers.
 *
 * <p>{@link #read} rejects (with {@link ErrorCode#DISK_LAYOUT}) a disk without a usable GPT, a
 * missing or duplicated name, a partition whose last sector is before its first, one that extends
 * past the end of the disk, and overlapping partitions.
 */
public final class DiskLayout {
  static final String ESP = "ESP";
  static final String PERSIST = "PERSIST";
  private static final byte[] SIGNATURE = "EFI PART".getBytes(StandardCharsets.US_ASCII);

  private final GptTable table;
  private final String diskName;

  private DiskLayout(GptTable table, String diskName) {
    this.table = table;
    this.diskName = diskName;
  }

  /**
   * Reads and checks the partition table of {@code disk}. The table is looked for with 512-byte
   * sectors, then with 4096-byte sectors when there is no GPT signature for 512.
   *
   * @param diskName for messages only (e.g. {@code /dev/vda})
   * @throws AgentException {@link ErrorCode#DISK_LAYOUT} when the disk breaks the boot contract,
   *     {@link ErrorCode#IO_ERROR} when it cannot be read
   */
  public static DiskLayout read(BlockDevice disk, String diskName) {
    try {
      long size = disk.size();
      GptParser.SectorReader reader =
          (offset, length) -> {
            ByteBuffer buf = ByteBuffer.allocate(length);
            disk.read(offset, buf);
            return buf.array();
          };
      int sectorSize = 512;
      if (!hasSignature(reader, size, 512) && hasSignature(reader, size, 4096)) {
        sectorSize = 4096;
      }
      GptTable table = GptParser.parse(reader, size, sectorSize, diskName);
      validate(table, diskName);
      return new DiskLayout(table, diskName);
    } catch (IOException e) {
      throw new AgentException(
          ErrorCode.IO_ERROR,
          "cannot read the partition table of " + diskName + ": " + e.getMessage(),
          e);
    }
  }

  private static boolean hasSignature(GptParser.SectorReader reader, long size, int sectorSize)
      throws IOException {
    long sectors = size / sectorSize;
    if (sectors < 3) {
      return false;
    }
    for (long lba : new long[] {1, sectors - 1}) {
      byte[] head = reader.read(lba * sectorSize, SIGNATURE.length);
      if (Arrays.equals(head, SIGNATURE)) {
        return true;
      }
    }
    return false;
  }

  private static void validate(GptTable table, String diskName) {
    List<GptPartition> parts = table.partitions();
    int ss = table.sectorSize();
    Set<String> seen = new HashSet<>();
    for (GptPartition p : parts) {
      if (!p.name().isEmpty() && !seen.add(p.name())) {
        throw layout(
            diskName
                + " has more than one partition named '"
                + p.name()
                + "' ("
                + describe(parts)
                + "); names must be unique, rename or delete the extra one with sgdisk -c/-d");
      }
      if (p.lastLba() < p.firstLba() || p.firstLba() < 1) {
        throw layout(
            partition(p, diskName)
                + " has an invalid sector range "
                + p.firstLba()
                + ".."
                + p.lastLba());
      }
      long endBytes = (p.lastLba() + 1) * ss;
      if (p.lastLba() >= table.diskSizeBytes() / ss) {
        throw layout(
            partition(p, diskName)
                + " ends at byte "
                + endBytes
                + ", past the end of the "
                + table.diskSizeBytes()
                + "-byte disk (truncated image?); rebuild the disk image");
      }
    }
    List<GptPartition> sorted = new ArrayList<>(parts);
    sorted.sort(Comparator.comparingLong(GptPartition::firstLba));
    for (int i = 1; i < sorted.size(); i++) {
      GptPartition prev = sorted.get(i - 1);
      GptPartition next = sorted.get(i);
      if (next.firstLba() <= prev.lastLba()) {
        throw layout(
            "partitions "
                + prev.number()
                + " ('"
                + prev.name()
                + "', sectors "
                + prev.firstLba()
                + ".."
                + prev.lastLba()
                + ") and "
                + next.number()
                + " ('"
                + next.name()
                + "', sectors "
                + next.firstLba()
                + ".."
                + next.lastLba()
                + ") of "
                + diskName
                + " overlap; rebuild the disk with `kubeos image build`");
      }
    }
    for (Slot slot : Slot.values()) {
      if (table.byName(slot.partitionName()).isEmpty()) {
        throw layout(
            diskName
                + " has no GPT partition named "
                + slot.partitionName()
                + " (found: "
                + describe(parts)
                + "); the A/B boot contract needs partitions named ROOT-A and ROOT-B, build the"
                + " disk with `kubeos image build` or name them with `sgdisk -c N:ROOT-A`");
      }
    }
  }

  private static String describe(List<GptPartition> parts) {
    if (parts.isEmpty()) {
      return "no partitions";
    }
    return parts.stream()
        .map(p -> p.number() + ":'" + p.name() + "'")
        .collect(Collectors.joining(", "));
  }

  private static AgentException layout(String message) {
    return new AgentException(ErrorCode.DISK_LAYOUT, message);
  }

  /** The parsed partition table. */
  public GptTable table() {
    return table;
  }

  /** The name the disk was read under (for messages). */
  public String diskName() {
    return diskName;
  }

  /** The partition holding {@code slot} (named {@link Slot#partitionName()}). */
  public GptPartition slot(Slot slot) {
    return table.byName(slot.partitionName()).orElseThrow();
  }

  /** The EFI system partition, named {@code ESP}. */
  public Optional<GptPartition> esp() {
    return table.byName(ESP);
  }

  /** The persistent data partition, named {@code PERSIST}. */
  public Optional<GptPartition> persist() {
    return table.byName(PERSIST);
  }

  /** Byte offset of {@code slot} from the start of the disk. */
  public long slotOffset(Slot slot) {
    return slot(slot).offsetBytes(table.sectorSize());
  }

  /** Size of {@code slot} in bytes. */
  public long slotSize(Slot slot) {
    return slot(slot).sizeBytes(table.sectorSize());
  }

  /** A bounded view of {@code disk} covering exactly the partition of {@code slot}. */
  public BlockDevice openSlot(BlockDevice disk, Slot slot) throws IOException {
    return disk.slice(slotOffset(slot), slotSize(slot));
  }

  /** The slot whose partition has this unique GUID (e.g. the booted root's PARTUUID). */
  public Optional<Slot> slotOfPartUuid(UUID partUuid) {
    for (Slot slot : Slot.values()) {
      if (slot(slot).uniqueGuid().equals(partUuid)) {
        return Optional.of(slot);
      }
    }
    return Optional.empty();
  }

  @Override
  public String toString() {
    return "DiskLayout[" + diskName + ": " + describe(table.partitions()) + "]";
  }

  /** "partition N ('name') of disk", for messages. */
  private static String partition(GptPartition p, String diskName) {
    return "partition " + p.number() + " ('" + p.name() + "') of " + diskName;
  }
}
