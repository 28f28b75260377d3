package dev.kubeos.agent.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import java.io.IOException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class GptParserTest {
  static final UUID ESP = UUID.fromString("01234567-89ab-cdef-0123-456789abcdef");
  static final UUID ROOT_A = UUID.fromString("a1b2c3d4-e5f6-4789-8abc-def012345678");
  static final UUID ROOT_B = UUID.fromString("0b0b0b0b-1c1c-4d4d-9e9e-afafafafafaf");
  static final long DISK = 1 << 20;

  static GptImageBuilder threePartitions(long diskBytes, int sectorSize) {
    GptImageBuilder b = new GptImageBuilder(diskBytes, sectorSize);
    long first = b.firstUsable();
    return b.add(0, "ESP", GptImageBuilder.EFI_SYSTEM, ESP, first, first + 9, 0)
        .add(1, "ROOT-A", GptImageBuilder.LINUX_ROOT_X86_64, ROOT_A, first + 10, first + 59, 0)
        // entry index 3 with index 2 left empty: numbers follow the entry index
        .add(3, "ROOT-B", GptImageBuilder.LINUX_ROOT_X86_64, ROOT_B, first + 60, first + 109, 4L);
  }

  static GptTable parse(byte[] disk, int sectorSize) throws IOException {
    return GptParser.parse(reader(disk), disk.length, sectorSize, "/dev/test");
  }

  static GptParser.SectorReader reader(byte[] disk) {
    return (offset, length) -> {
      if (offset < 0 || offset + length > disk.length) {
        throw new IOException("read outside the disk: " + offset + "+" + length);
      }
      return Arrays.copyOfRange(disk, (int) offset, (int) offset + length);
    };
  }

  @Test
  void parsesNamesGuidsAndLbas() throws IOException {
    GptImageBuilder b = threePartitions(DISK, 512);
    GptTable t = parse(b.build(), 512);
    long first = b.firstUsable();

    assertThat(t.primaryValid()).isTrue();
    assertThat(t.backupValid()).isTrue();
    assertThat(t.sectorSize()).isEqualTo(512);
    assertThat(t.diskSizeBytes()).isEqualTo(DISK);
    assertThat(t.diskGuid()).isEqualTo(UUID.fromString("11111111-2222-3333-4444-555555555555"));
    assertThat(t.partitions())
        .containsExactly(
            new GptPartition(1, "ESP", GptImageBuilder.EFI_SYSTEM, ESP, first, first + 9, 0),
            new GptPartition(
                2, "ROOT-A", GptImageBuilder.LINUX_ROOT_X86_64, ROOT_A, first + 10, first + 59, 0),
            new GptPartition(
                4,
                "ROOT-B",
                GptImageBuilder.LINUX_ROOT_X86_64,
                ROOT_B,
                first + 60,
                first + 109,
                4));
    GptPartition rootA = t.byName("ROOT-A").orElseThrow();
    assertThat(rootA.offsetBytes(512)).isEqualTo((first + 10) * 512);
    assertThat(rootA.sizeBytes(512)).isEqualTo(50 * 512);
    assertThat(t.byUniqueGuid(ROOT_B)).map(GptPartition::name).contains("ROOT-B");
    assertThat(t.byName("ROOT-C")).isEmpty();
  }

  @Test
  void decodesMixedEndianGuidsFromSpecBytes() {
    // the EFI system partition type as stored on disk (UEFI spec): 28 73 2A C1 1F F8 D2 11 ...
    byte[] raw = HexFormat.of().parseHex("28732ac11ff8d211ba4b00a0c93ec93b");
    assertThat(GptParser.decodeGuid(raw, 0))
        .isEqualTo(UUID.fromString("C12A7328-F81F-11D2-BA4B-00A0C93EC93B"));
  }

  @Test
  void namesAreUtf16AndCutAtTheFirstNul() throws IOException {
    GptImageBuilder b = new GptImageBuilder(DISK, 512);
    long first = b.firstUsable();
    String full = "Ünïcødé-name-of-exactly-36-chars-xyz";
    assertThat(full).hasSize(36);
    b.add("ROOT-Ä", GptImageBuilder.LINUX_DATA, ROOT_A, first, first)
        .add(full, GptImageBuilder.LINUX_DATA, ROOT_B, first + 1, first + 1);
    assertThat(parse(b.build(), 512).partitions())
        .extracting(GptPartition::name)
        .containsExactly("ROOT-Ä", full);
  }

  @Test
  void parses4096ByteSectors() throws IOException {
    GptTable t = parse(threePartitions(4 * DISK, 4096).build(), 4096);
    assertThat(t.sectorSize()).isEqualTo(4096);
    assertThat(t.partitions()).extracting(GptPartition::name).contains("ESP", "ROOT-A", "ROOT-B");
    assertThat(t.primaryValid()).isTrue();
  }

  @Test
  void corruptPrimaryHeaderCrcFallsBackToBackup() throws IOException {
    byte[] good = threePartitions(DISK, 512).build();
    byte[] disk = good.clone();
    disk[512 + 16] ^= 0x01; // stored header CRC

    GptTable t = parse(disk, 512);

    assertThat(t.primaryValid()).isFalse();
    assertThat(t.backupValid()).isTrue();
    assertThat(t.partitions()).isEqualTo(parse(good, 512).partitions());
  }

  @Test
  void anyCorruptByteOfThePrimaryHeaderIsDetected() throws IOException {
    byte[] good = threePartitions(DISK, 512).build();
    GptTable expected = parse(good, 512);
    for (int i = 0; i < 92; i++) {
      byte[] disk = good.clone();
      disk[512 + i] ^= (byte) 0x40;
      GptTable t = parse(disk, 512);
      assertThat(t.primaryValid()).as("byte %d flipped", i).isFalse();
      assertThat(t.partitions()).as("byte %d flipped", i).isEqualTo(expected.partitions());
    }
  }

  @Test
  void corruptPrimaryEntriesFallBackToBackupEntries() throws IOException {
    byte[] disk = threePartitions(DISK, 512).build();
    disk[2 * 512 + 128 + 56] = 'X'; // first letter of the name ROOT-A in the primary array

    GptTable t = parse(disk, 512);

    assertThat(t.primaryValid()).isFalse();
    assertThat(t.backupValid()).isTrue();
    assertThat(t.byName("ROOT-A")).isPresent();
    assertThat(t.byName("XOOT-A")).isEmpty();
  }

  @Test
  void corruptBackupIsFlaggedButPrimaryIsUsed() throws IOException {
    GptImageBuilder b = threePartitions(DISK, 512);
    byte[] disk = b.build();
    disk[(int) ((b.lastLba() - b.entrySectors()) * 512) + 40] ^= 1; // backup entries

    GptTable t = parse(disk, 512);

    assertThat(t.primaryValid()).isTrue();
    assertThat(t.backupValid()).isFalse();
    assertThat(t.partitions()).hasSize(3);
  }

  @Test
  void headerAtTheWrongLbaIsRejected() throws IOException {
    byte[] disk = threePartitions(DISK, 512).build();
    GptImageBuilder.put64(disk, 512 + 24, 7); // MyLBA claims 7
    GptImageBuilder.fixHeaderCrc(disk, 1, 512);
    assertThat(parse(disk, 512).primaryValid()).isFalse();
  }

  @Test
  void bothHeadersBrokenIsADiskLayoutErrorNamingBoth() {
    GptImageBuilder b = threePartitions(DISK, 512);
    byte[] disk = b.build();
    disk[512 + 16] ^= 1;
    disk[(int) (b.lastLba() * 512) + 88] ^= 1; // backup's entries CRC field

    assertThatThrownBy(() -> parse(disk, 512))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.DISK_LAYOUT))
        .hasMessageContaining("both GPT headers of /dev/test are invalid")
        .hasMessageContaining("primary (LBA 1): header CRC32 mismatch")
        .hasMessageContaining("backup (LBA " + b.lastLba() + "): header CRC32 mismatch");
  }

  @Test
  void zeroedDiskIsADiskLayoutErrorSayingThereIsNoGpt() {
    assertThatThrownBy(() -> parse(new byte[(int) DISK], 512))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.DISK_LAYOUT))
        .hasMessageContaining("no GPT signature at LBA 1 or at the last LBA (2047) of /dev/test")
        .hasMessageContaining("no MBR boot signature")
        .hasMessageContaining("not partitioned with GPT");
  }

  @Test
  void gptWithoutProtectiveMbrIsRejectedBecauseLinuxIgnoresIt() {
    byte[] disk = threePartitions(DISK, 512).build();
    disk[446 + 4] = (byte) 0x83;
    assertThatThrownBy(() -> parse(disk, 512))
        .isInstanceOf(AgentException.class)
        .hasMessageContaining("no protective MBR");
  }

  @Test
  void tinyDiskIsRejected() {
    assertThatThrownBy(() -> parse(new byte[1024], 512))
        .isInstanceOf(AgentException.class)
        .hasMessageContaining("too small");
  }

  @Test
  void readerFailuresPropagate() {
    GptParser.SectorReader failing =
        (offset, length) -> {
          throw new IOException("medium error");
        };
    assertThatThrownBy(() -> GptParser.parse(failing, DISK, 512))
        .isInstanceOf(IOException.class)
        .hasMessage("medium error");
  }
}
