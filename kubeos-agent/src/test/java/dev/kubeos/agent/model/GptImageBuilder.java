package dev.kubeos.agent.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.zip.CRC32;

/**
 * Builds a GPT disk image in memory, written from the UEFI specification independently of {@link
 * GptParser}: protective MBR, primary header at LBA 1 with 128 entries at LBA 2, backup entries and
 * header at the end of the disk.
 */
public final class GptImageBuilder {
  public static final UUID LINUX_ROOT_X86_64 =
      UUID.fromString("4f68bce3-e8cd-4db1-96e7-fbcaf984b709");
  public static final UUID LINUX_DATA = UUID.fromString("0fc63daf-8483-4772-8e79-3d69d8477de4");
  public static final UUID EFI_SYSTEM = UUID.fromString("c12a7328-f81f-11d2-ba4b-00a0c93ec93b");
  public static final int ENTRIES = 128;
  public static final int ENTRY_SIZE = 128;

  private record Entry(
      int index, String name, UUID type, UUID unique, long first, long last, long attrs) {}

  private final long diskBytes;
  private final int sectorSize;
  private UUID diskGuid = UUID.fromString("11111111-2222-3333-4444-555555555555");
  private final List<Entry> entries = new ArrayList<>();

  public GptImageBuilder(long diskBytes, int sectorSize) {
    this.diskBytes = diskBytes;
    this.sectorSize = sectorSize;
  }

  public GptImageBuilder diskGuid(UUID guid) {
    this.diskGuid = guid;
    return this;
  }

  /** Adds a partition at entry index {@code index} (0-based). */
  public GptImageBuilder add(
      int index, String name, UUID type, UUID unique, long first, long last, long attrs) {
    entries.add(new Entry(index, name, type, unique, first, last, attrs));
    return this;
  }

  /** Adds a partition in the next free entry after the last one added. */
  public GptImageBuilder add(String name, UUID type, UUID unique, long first, long last) {
    int index = entries.isEmpty() ? 0 : entries.get(entries.size() - 1).index() + 1;
    return add(index, name, type, unique, first, last, 0);
  }

  public long lastLba() {
    return diskBytes / sectorSize - 1;
  }

  public int entrySectors() {
    return ENTRIES * ENTRY_SIZE / sectorSize;
  }

  /** First LBA usable by partitions. */
  public long firstUsable() {
    return 2 + entrySectors();
  }

  public byte[] build() {
    byte[] disk = new byte[Math.toIntExact(diskBytes)];
    // protective MBR: one partition of type 0xEE covering the disk
    disk[446 + 4] = (byte) 0xEE;
    put32(disk, 446 + 8, 1);
    put32(disk, 446 + 12, (int) Math.min(lastLba(), 0xFFFF_FFFFL));
    disk[510] = 0x55;
    disk[511] = (byte) 0xAA;
    byte[] array = new byte[ENTRIES * ENTRY_SIZE];
    for (Entry e : entries) {
      int off = e.index() * ENTRY_SIZE;
      System.arraycopy(guidBytes(e.type()), 0, array, off, 16);
      System.arraycopy(guidBytes(e.unique()), 0, array, off + 16, 16);
      put64(array, off + 32, e.first());
      put64(array, off + 40, e.last());
      put64(array, off + 48, e.attrs());
      byte[] name = e.name().getBytes(StandardCharsets.UTF_16LE);
      System.arraycopy(name, 0, array, off + 56, Math.min(72, name.length));
    }
    long backupEntries = lastLba() - entrySectors();
    System.arraycopy(array, 0, disk, 2 * sectorSize, array.length);
    System.arraycopy(array, 0, disk, (int) (backupEntries * sectorSize), array.length);
    int arrayCrc = crc(array, 0, array.length);
    writeHeader(disk, 1, lastLba(), 2, arrayCrc);
    writeHeader(disk, lastLba(), 1, backupEntries, arrayCrc);
    return disk;
  }

  private void writeHeader(byte[] disk, long my, long alternate, long entriesLba, int arrayCrc) {
    int off = (int) (my * sectorSize);
    System.arraycopy("EFI PART".getBytes(StandardCharsets.US_ASCII), 0, disk, off, 8);
    put32(disk, off + 8, 0x0001_0000);
    put32(disk, off + 12, 92);
    put64(disk, off + 24, my);
    put64(disk, off + 32, alternate);
    put64(disk, off + 40, firstUsable());
    put64(disk, off + 48, lastLba() - entrySectors() - 1);
    System.arraycopy(guidBytes(diskGuid), 0, disk, off + 56, 16);
    put64(disk, off + 72, entriesLba);
    put32(disk, off + 80, ENTRIES);
    put32(disk, off + 84, ENTRY_SIZE);
    put32(disk, off + 88, arrayCrc);
    fixHeaderCrc(disk, my, sectorSize);
  }

  /** Recomputes the header CRC of the header at {@code lba} (after a deliberate edit). */
  public static void fixHeaderCrc(byte[] disk, long lba, int sectorSize) {
    int off = (int) (lba * sectorSize);
    put32(disk, off + 16, 0);
    put32(disk, off + 16, crc(disk, off, 92));
  }

  /** GPT on-disk bytes of a GUID: time_low, time_mid, time_hi little-endian, the rest as is. */
  public static byte[] guidBytes(UUID uuid) {
    String hex = uuid.toString().replace("-", "");
    byte[] be = new byte[16];
    for (int i = 0; i < 16; i++) {
      be[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
    }
    return new byte[] {
      be[3], be[2], be[1], be[0], be[5], be[4], be[7], be[6], be[8], be[9], be[10], be[11], be[12],
      be[13], be[14], be[15]
    };
  }

  static int crc(byte[] bytes, int off, int len) {
    CRC32 c = new CRC32();
    c.update(bytes, off, len);
    return (int) c.getValue();
  }

  static void put32(byte[] b, int off, int v) {
    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(off, v);
  }

  static void put64(byte[] b, int off, long v) {
    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(off, v);
  }
}
