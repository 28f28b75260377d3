package dev.kubeos.agent.model;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.zip.CRC32;

/**
 * Reads a GUID partition table (UEFI spec, chapter 5) through a {@link SectorReader}. Pure: it does
 * no I/O of its own, so it can be fed a real disk or bytes built in memory.
 *
 * <p>Checks: the protective MBR (boot signature 0x55AA and a partition of type 0xEE, which Linux
 * requires before it uses a GPT), the primary header at LBA 1 and the backup header at the last LBA
 * (signature {@code EFI PART}, header CRC32 computed with the CRC field zeroed, {@code MyLBA},
 * partition entry array CRC32). Each header is checked with its own entry array. The primary is
 * used when valid, otherwise the backup; {@link GptTable} records which ones were valid.
 */
public final class GptParser {

  /** Reads exactly {@code length} bytes at byte {@code offset} of the disk. */
  @FunctionalInterface
  public interface SectorReader {
    byte[] read(long offset, int length) throws IOException;
  }

  private static final byte[] SIGNATURE = "EFI PART".getBytes(StandardCharsets.US_ASCII);
  private static final int MIN_HEADER_SIZE = 92;
  private static final int MAX_ENTRY_ARRAY_BYTES = 4 << 20;
  private static final int NAME_OFFSET = 56;
  private static final int NAME_BYTES = 72;

  private GptParser() {}

  /** Same as {@link #parse(SectorReader, long, int, String)} with a generic disk name. */
  public static GptTable parse(SectorReader reader, long diskSizeBytes, int sectorSize)
      throws IOException {
    return parse(reader, diskSizeBytes, sectorSize, "the disk");
  }

  /**
   * Parses the GPT of a disk of {@code diskSizeBytes} bytes with logical sectors of {@code
   * sectorSize} bytes.
   *
   * @param diskName used in error messages only (e.g. {@code /dev/vda})
   * @throws AgentException {@link ErrorCode#DISK_LAYOUT} when there is no usable GPT
   * @throws IOException when {@code reader} fails
   */
  public static GptTable parse(
      SectorReader reader, long diskSizeBytes, int sectorSize, String diskName) throws IOException {
    if (sectorSize < 512 || Integer.bitCount(sectorSize) != 1) {
      throw new IllegalArgumentException("sector size must be a power of two >= 512");
    }
    long sectors = diskSizeBytes / sectorSize;
    if (sectors < 3) {
      throw layout(
          diskName
              + " is "
              + diskSizeBytes
              + " bytes, too small to hold a GPT (needs at least 3 sectors of "
              + sectorSize
              + " bytes)");
    }
    long lastLba = sectors - 1;
    Header primary = readHeader(reader, 1, sectors, sectorSize);
    Header backup = readHeader(reader, lastLba, sectors, sectorSize);
    if (!backup.valid()
        && primary.valid()
        && primary.alternateLba() != lastLba
        && primary.alternateLba() > 1
        && primary.alternateLba() < sectors) {
      // the disk grew after partitioning: the backup is still where the primary says it is
      backup = readHeader(reader, primary.alternateLba(), sectors, sectorSize);
    }
    if (!primary.valid() && !backup.valid()) {
      if (!primary.signature() && !backup.signature()) {
        throw layout(
            "no GPT signature at LBA 1 or at the last LBA ("
                + lastLba
                + ") of "
                + diskName
                + mbrNote(reader.read(0, 512))
                + ": the disk is not partitioned with GPT; build it with `kubeos image build` or"
                + " sgdisk");
      }
      throw layout(
          "both GPT headers of "
              + diskName
              + " are invalid: primary (LBA 1): "
              + primary.problem()
              + "; backup (LBA "
              + lastLba
              + "): "
              + backup.problem()
              + ". Restore the table from a saved copy (sgdisk --load-backup) or rebuild the disk"
              + " with `kubeos image build`");
    }
    byte[] mbr = reader.read(0, 512);
    if (!isProtectiveMbr(mbr)) {
      throw layout(
          diskName
              + " has a GPT but no protective MBR at LBA 0 (boot signature 0x55AA with a partition"
              + " of type 0xEE); Linux ignores such a table. Any sgdisk write, e.g. `sgdisk -e "
              + diskName
              + "`, writes a fresh protective MBR");
    }
    Header used = primary.valid() ? primary : backup;
    return new GptTable(
        used.diskGuid(),
        sectorSize,
        diskSizeBytes,
        used.partitions(),
        primary.valid(),
        backup.valid());
  }

  /** Decodes a GUID stored in GPT byte order (first three fields little-endian). */
  public static UUID decodeGuid(byte[] bytes, int offset) {
    ByteBuffer le = ByteBuffer.wrap(bytes, offset, 16).order(ByteOrder.LITTLE_ENDIAN);
    long d1 = le.getInt(offset) & 0xFFFF_FFFFL;
    long d2 = le.getShort(offset + 4) & 0xFFFFL;
    long d3 = le.getShort(offset + 6) & 0xFFFFL;
    long lsb = ByteBuffer.wrap(bytes, offset + 8, 8).order(ByteOrder.BIG_ENDIAN).getLong();
    return new UUID((d1 << 32) | (d2 << 16) | d3, lsb);
  }

  /** True when at least one byte of the 16 at {@code offset} is non-zero. */
  private static boolean nonZero(byte[] bytes, int offset) {
    for (int i = offset; i < offset + 16; i++) {
      if (bytes[i] != 0) {
        return true;
      }
    }
    return false;
  }

  private record Header(
      boolean signature,
      String problem,
      UUID diskGuid,
      long alternateLba,
      List<GptPartition> partitions) {
    boolean valid() {
      return problem == null;
    }

    static Header invalid(boolean signature, String problem) {
      return new Header(signature, problem, null, -1, List.of());
    }
  }

  private static Header readHeader(SectorReader reader, long lba, long sectors, int sectorSize)
      throws IOException {
    byte[] h = reader.read(lba * sectorSize, sectorSize);
    if (!Arrays.equals(h, 0, SIGNATURE.length, SIGNATURE, 0, SIGNATURE.length)) {
      return Header.invalid(false, "no 'EFI PART' signature");
    }
    ByteBuffer b = ByteBuffer.wrap(h).order(ByteOrder.LITTLE_ENDIAN);
    int headerSize = b.getInt(12);
    if (headerSize < MIN_HEADER_SIZE || headerSize > sectorSize) {
      return Header.invalid(true, "header size " + headerSize + " is outside 92.." + sectorSize);
    }
    int storedCrc = b.getInt(16);
    byte[] copy = Arrays.copyOf(h, headerSize);
    Arrays.fill(copy, 16, 20, (byte) 0);
    int computedCrc = crc32(copy, copy.length);
    if (storedCrc != computedCrc) {
      return Header.invalid(true, "header CRC32 mismatch " + crcs(storedCrc, computedCrc));
    }
    long myLba = b.getLong(24);
    if (myLba != lba) {
      return Header.invalid(true, "header says it is at LBA " + myLba + " but was read at " + lba);
    }
    long lastUsable = b.getLong(48);
    if (lastUsable >= sectors) {
      return Header.invalid(
          true,
          "header's last usable LBA "
              + lastUsable
              + " lies beyond the disk's "
              + sectors
              + " sectors (truncated image or wrong sector size?)");
    }
    long entriesLba = b.getLong(72);
    long entryCount = b.getInt(80) & 0xFFFF_FFFFL;
    int entrySize = b.getInt(84);
    if (entrySize < 128 || Integer.bitCount(entrySize) != 1) {
      return Header.invalid(true, "partition entry size " + entrySize + " is not 128 * 2^n");
    }
    long arrayBytes = entryCount * entrySize;
    if (arrayBytes > MAX_ENTRY_ARRAY_BYTES) {
      return Header.invalid(
          true, "partition entry array of " + arrayBytes + " bytes is implausibly large");
    }
    long arraySectors = (arrayBytes + sectorSize - 1) / sectorSize;
    if (entriesLba < 2
        || entriesLba + arraySectors > sectors
        || (lba >= entriesLba && lba < entriesLba + arraySectors)) {
      return Header.invalid(
          true, "partition entry array at LBA " + entriesLba + " lies outside the disk");
    }
    byte[] entries = reader.read(entriesLba * sectorSize, (int) arrayBytes);
    int storedEntriesCrc = b.getInt(88);
    int computedEntriesCrc = crc32(entries, (int) arrayBytes);
    if (storedEntriesCrc != computedEntriesCrc) {
      return Header.invalid(
          true,
          "partition entry array CRC32 mismatch " + crcs(storedEntriesCrc, computedEntriesCrc));
    }
    return new Header(
        true,
        null,
        decodeGuid(h, 56),
        b.getLong(32),
        parseEntries(entries, (int) entryCount, entrySize));
  }

  private static List<GptPartition> parseEntries(byte[] entries, int count, int entrySize) {
    ByteBuffer b = ByteBuffer.wrap(entries).order(ByteOrder.LITTLE_ENDIAN);
    List<GptPartition> partitions = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      int off = i * entrySize;
      if (!nonZero(entries, off)) {
        continue; // unused entry
      }
      partitions.add(
          new GptPartition(
              i + 1,
              decodeName(entries, off + NAME_OFFSET),
              decodeGuid(entries, off),
              decodeGuid(entries, off + 16),
              b.getLong(off + 32),
              b.getLong(off + 40),
              b.getLong(off + 48)));
    }
    return partitions;
  }

  private static String decodeName(byte[] entries, int offset) {
    int len = 0;
    while (len < NAME_BYTES && (entries[offset + len] != 0 || entries[offset + len + 1] != 0)) {
      len += 2;
    }
    return new String(entries, offset, len, StandardCharsets.UTF_16LE);
  }

  private static boolean isProtectiveMbr(byte[] mbr) {
    if ((mbr[510] & 0xFF) != 0x55 || (mbr[511] & 0xFF) != 0xAA) {
      return false;
    }
    for (int i = 0; i < 4; i++) {
      if ((mbr[446 + 16 * i + 4] & 0xFF) == 0xEE) {
        return true;
      }
    }
    return false;
  }

  private static String mbrNote(byte[] mbr) {
    if ((mbr[510] & 0xFF) != 0x55 || (mbr[511] & 0xFF) != 0xAA) {
      return " (and no MBR boot signature at LBA 0)";
    }
    for (int i = 0; i < 4; i++) {
      int type = mbr[446 + 16 * i + 4] & 0xFF;
      if (type == 0xEE) {
        return " (LBA 0 holds a protective MBR, so the GPT itself was wiped)";
      }
      if (type != 0) {
        return " (LBA 0 holds an MBR/DOS partition table, which is not supported)";
      }
    }
    return " (LBA 0 has an MBR boot signature but no partitions)";
  }

  private static int crc32(byte[] bytes, int length) {
    CRC32 crc = new CRC32();
    crc.update(bytes, 0, length);
    return (int) crc.getValue();
  }

  private static String crcs(int stored, int computed) {
    return String.format("(stored 0x%08x, computed 0x%08x)", stored, computed);
  }

  private static AgentException layout(String message) {
    return new AgentException(ErrorCode.DISK_LAYOUT, message);
  }
}
