package dev.kubeos.agent.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.agent.model.GptPartition;
import dev.kubeos.agent.port.BlockDevice;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.api.agent.Slot;
import dev.kubeos.testing.TestDisks;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** DiskLayout on real sgdisk images, cross-checked against sfdisk --json. */
class DiskLayoutIT {
  @TempDir Path tmp;

  static DiskLayout read(Path image) throws IOException {
    try (FileBlockDevice dev = FileBlockDevice.open(image, false)) {
      return DiskLayout.read(dev, image.toString());
    }
  }

  static void zero(Path image, long offset, int length) throws IOException {
    try (RandomAccessFile raf = new RandomAccessFile(image.toFile(), "rw")) {
      raf.seek(offset);
      raf.write(new byte[length]);
    }
  }

  static AgentException layoutError(Path image) {
    try {
      read(image);
    } catch (AgentException e) {
      assertThat(e.code()).isEqualTo(ErrorCode.DISK_LAYOUT);
      return e;
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    throw new AssertionError("expected DISK_LAYOUT for " + image);
  }

  @Test
  void everyPartitionMatchesSfdisk() throws IOException {
    Path image = TestDisks.create(tmp.resolve("disk.img"), 1, 4, 1);
    List<TestDisks.Part> expected = TestDisks.partitions(image);

    DiskLayout layout = read(image);

    assertThat(expected).hasSize(4);
    assertThat(layout.table().diskGuid()).isEqualTo(TestDisks.DISK_GUID);
    assertThat(layout.table().primaryValid()).isTrue();
    assertThat(layout.table().backupValid()).isTrue();
    assertThat(layout.table().partitions()).hasSameSizeAs(expected);
    for (TestDisks.Part p : expected) {
      GptPartition g = layout.table().byName(p.name()).orElseThrow();
      assertThat(g.number()).isEqualTo(p.number());
      assertThat(g.uniqueGuid()).isEqualTo(p.uuid());
      assertThat(g.typeGuid()).isEqualTo(p.type());
      assertThat(g.offsetBytes(512)).isEqualTo(p.offsetBytes());
      assertThat(g.sizeBytes(512)).isEqualTo(p.sizeBytes());
    }
    assertThat(layout.slot(Slot.A).uniqueGuid()).isEqualTo(TestDisks.ROOT_A_UUID);
    assertThat(layout.slotOffset(Slot.B))
        .isEqualTo(TestDisks.partition(image, "ROOT-B").offsetBytes());
    assertThat(layout.slotSize(Slot.B)).isEqualTo(4L << 20);
    assertThat(layout.esp()).map(GptPartition::uniqueGuid).contains(TestDisks.ESP_UUID);
    assertThat(layout.persist()).map(GptPartition::uniqueGuid).contains(TestDisks.PERSIST_UUID);
    assertThat(layout.slotOfPartUuid(TestDisks.ROOT_B_UUID)).contains(Slot.B);
    assertThat(layout.slotOfPartUuid(TestDisks.ESP_UUID)).isEmpty();
  }

  @Test
  void openSlotSeesTheFileSystemMkfsWroteIntoThatPartition() throws IOException {
    Path image = TestDisks.create(tmp.resolve("disk.img"), 1, 4, 1);
    Path src = Files.createDirectories(tmp.resolve("rootfs/etc"));
    Files.writeString(src.resolve("os-release"), "ID=kubeos\n");
    TestDisks.mkfsExt4(
        image, TestDisks.partition(image, "ROOT-B"), tmp.resolve("rootfs"), "root-b");

    try (FileBlockDevice disk = FileBlockDevice.open(image, false)) {
      DiskLayout layout = DiskLayout.read(disk, image.toString());
      ByteBuffer sb = ByteBuffer.allocate(1024).order(ByteOrder.LITTLE_ENDIAN);
      try (BlockDevice slotB = layout.openSlot(disk, Slot.B)) {
        slotB.read(1024, sb);
        assertThat(sb.getShort(56) & 0xFFFF).as("ext4 magic").isEqualTo(0xEF53);
        assertThat(new String(sb.array(), 120, 6, StandardCharsets.US_ASCII)).isEqualTo("root-b");
      }
      ByteBuffer a = ByteBuffer.allocate(1024).order(ByteOrder.LITTLE_ENDIAN);
      layout.openSlot(disk, Slot.A).read(1024, a);
      assertThat(a.getShort(56)).as("ROOT-A stays unformatted").isZero();
    }
    assertThat(
            TestDisks.debugfs(image, TestDisks.partition(image, "ROOT-B"), "cat /etc/os-release"))
        .isEqualTo("ID=kubeos\n");
  }

  @Test
  void zeroedPrimaryHeaderAndEntriesAreRecoveredFromTheBackup() throws IOException {
    Path image = TestDisks.create(tmp.resolve("disk.img"), 1, 4, 1);
    zero(image, 512, 33 * 512); // primary header and its entry array

    DiskLayout layout = read(image);

    assertThat(layout.table().primaryValid()).isFalse();
    assertThat(layout.table().backupValid()).isTrue();
    assertThat(layout.slotOffset(Slot.A))
        .isEqualTo(TestDisks.partition(image, "ROOT-A").offsetBytes());
  }

  @Test
  void bothHeadersDestroyedIsADiskLayoutError() throws IOException {
    Path image = TestDisks.create(tmp.resolve("disk.img"), 1, 4, 1);
    zero(image, 512, 512);
    zero(image, Files.size(image) - 512, 512);

    assertThat(layoutError(image))
        .hasMessageContaining("no GPT signature at LBA 1 or at the last LBA")
        .hasMessageContaining("protective MBR, so the GPT itself was wiped");
  }

  @Test
  void diskWithoutRootBIsADiskLayoutErrorNamingIt() {
    Path image =
        TestDisks.create(
            tmp.resolve("disk.img"),
            List.of(
                new TestDisks.Spec("ESP", "EF00", 1, null),
                new TestDisks.Spec("ROOT-A", "8304", 2, null)));

    assertThat(layoutError(image))
        .hasMessageContaining("no GPT partition named ROOT-B")
        .hasMessageContaining("1:'ESP', 2:'ROOT-A'");
  }

  @Test
  void duplicateRootNamesFromSgdiskAreRejected() {
    Path image =
        TestDisks.create(
            tmp.resolve("disk.img"),
            List.of(
                new TestDisks.Spec("ROOT-A", "8304", 1, null),
                new TestDisks.Spec("ROOT-B", "8304", 1, null),
                new TestDisks.Spec("ROOT-B", "8304", 1, null)));
    assertThat(layoutError(image)).hasMessageContaining("more than one partition named 'ROOT-B'");
  }

  @Test
  void plainFileOfZerosIsADiskLayoutError() throws IOException {
    Path image = tmp.resolve("zeros.img");
    try (RandomAccessFile raf = new RandomAccessFile(image.toFile(), "rw")) {
      raf.setLength(4 << 20);
    }
    assertThat(layoutError(image))
        .hasMessageContaining("no GPT signature")
        .hasMessageContaining(image.toString())
        .hasMessageContaining("sgdisk");
  }

  @Test
  void grownImageStillFindsTheBackupWhereThePrimarySaysItIs() throws IOException {
    Path image = TestDisks.create(tmp.resolve("disk.img"), 1, 4, 1);
    try (RandomAccessFile raf = new RandomAccessFile(image.toFile(), "rw")) {
      raf.setLength(raf.length() + (1 << 20));
    }
    DiskLayout layout = read(image);
    assertThat(layout.table().primaryValid()).isTrue();
    assertThat(layout.table().backupValid()).isTrue();
  }

  @Test
  void truncatedImageIsADiskLayoutError() throws IOException {
    Path image = TestDisks.create(tmp.resolve("disk.img"), 1, 4, 1);
    try (RandomAccessFile raf = new RandomAccessFile(image.toFile(), "rw")) {
      raf.setLength(raf.length() - (2 << 20));
    }
    assertThat(layoutError(image)).hasMessageContaining("truncated image");
  }

  @Test
  void missingProtectiveMbrIsRepairedByTheAdvisedSgdiskCommand() throws IOException {
    Path image = TestDisks.create(tmp.resolve("disk.img"), 1, 4, 1);
    zero(image, 0, 512);
    assertThat(layoutError(image)).hasMessageContaining("`sgdisk -e " + image + "`");

    TestDisks.run("sgdisk", "-e", image.toString());

    assertThat(read(image).slot(Slot.B).uniqueGuid()).isEqualTo(TestDisks.ROOT_B_UUID);
  }

  @Test
  void unreadableDeviceIsAnIoError() throws IOException {
    MemoryBlockDevice closed = new MemoryBlockDevice(1 << 20);
    closed.close();
    assertThatThrownBy(() -> DiskLayout.read(closed, "/dev/gone"))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.IO_ERROR))
        .hasMessageContaining("/dev/gone");
  }
}
