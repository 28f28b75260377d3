package dev.kubeos.agent.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.nio.file.ExtendedOpenOption;
import dev.kubeos.agent.port.BlockDevice;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileBlockDeviceIT {
  @TempDir Path tmp;

  Path image(long size) throws IOException {
    Path p = tmp.resolve("disk.img");
    try (RandomAccessFile raf = new RandomAccessFile(p.toFile(), "rw")) {
      raf.setLength(size);
    }
    return p;
  }

  static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  @Test
  void sliceBoundsAreEnforced() throws IOException {
    try (FileBlockDevice dev = FileBlockDevice.open(image(1 << 20), true)) {
      assertThat(dev.size()).isEqualTo(1 << 20);
      BlockDevice slice = dev.slice(4096, 8192);
      assertThat(slice.size()).isEqualTo(8192);
      assertThatThrownBy(() -> slice.write(8000, ByteBuffer.allocate(193)))
          .hasMessageContaining("outside");
      assertThatThrownBy(() -> slice.readUncached(8192, ByteBuffer.allocate(1)))
          .isInstanceOf(IOException.class);
      assertThatThrownBy(() -> dev.slice((1 << 20) - 10, 11)).isInstanceOf(IOException.class);
      assertThatThrownBy(() -> dev.read(1 << 20, ByteBuffer.allocate(1)))
          .isInstanceOf(IOException.class);

      slice.write(8191, ByteBuffer.wrap(new byte[] {7}));
      slice.close(); // closing a view leaves the device open
      ByteBuffer b = ByteBuffer.allocate(1);
      dev.read(4096 + 8191, b);
      assertThat(b.get(0)).isEqualTo((byte) 7);
    }
    assertThat(Files.size(tmp.resolve("disk.img"))).isEqualTo(1 << 20);
  }

  @Test
  void writeSyncReadUncachedRoundTripAtUnalignedOffsets() throws IOException {
    long size = (3 << 20) + 100; // not a multiple of any block size
    byte[] data = random(1_500_000, 1);
    try (FileBlockDevice dev = FileBlockDevice.open(image(size), true)) {
      dev.write(4095, ByteBuffer.wrap(data));
      byte[] tail = random(100, 2);
      dev.write(size - 100, ByteBuffer.wrap(tail));
      dev.sync();

      ByteBuffer back = ByteBuffer.allocate(data.length);
      dev.readUncached(4095, back);
      assertThat(back.hasRemaining()).isFalse();
      assertThat(Arrays.equals(back.array(), data)).isTrue();

      ByteBuffer end = ByteBuffer.allocate(60);
      dev.readUncached(size - 60, end);
      assertThat(end.array()).isEqualTo(Arrays.copyOfRange(tail, 40, 100));

      BlockDevice slice = dev.slice(1000, 1 << 20);
      ByteBuffer viaSlice = ByteBuffer.allocate(5000);
      slice.readUncached(3095, viaSlice);
      assertThat(viaSlice.array()).isEqualTo(Arrays.copyOfRange(data, 0, 5000));
      assertThat(slice.uncachedReadsBypassCache()).isEqualTo(dev.uncachedReadsBypassCache());
    }
  }

  @Test
  void reportsTruthfullyWhetherODirectIsInEffect() throws IOException {
    Path p = image(1 << 20);
    Files.write(p, random(1 << 20, 3));
    boolean directWorks;
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ, ExtendedOpenOption.DIRECT)) {
      int bs = (int) Files.getFileStore(p).getBlockSize();
      ByteBuffer buf = ByteBuffer.allocateDirect(2 * bs).alignedSlice(bs);
      directWorks = ch.read(buf, 0) > 0;
    } catch (IOException | UnsupportedOperationException e) {
      directWorks = false;
    }
    try (FileBlockDevice dev = FileBlockDevice.open(p, false)) {
      ByteBuffer b = ByteBuffer.allocate(10);
      dev.readUncached(77, b);
      assertThat(b.array()).isEqualTo(Arrays.copyOfRange(Files.readAllBytes(p), 77, 87));
      System.out.printf(
          "O_DIRECT on %s (%s): %s%n",
          tmp, Files.getFileStore(p).type(), dev.uncachedReadsBypassCache() ? "bypasses" : "no");
      assertThat(dev.uncachedReadsBypassCache()).isEqualTo(directWorks);
      assertThat(dev.directIoProblem() == null).isEqualTo(directWorks);
    }
  }

  @Test
  void withoutODirectUncachedReadsFallBackAndSaySo() throws IOException {
    Path p = image(64 << 10);
    byte[] data = random(64 << 10, 4);
    Files.write(p, data);
    try (FileBlockDevice dev = FileBlockDevice.open(p, false, false)) {
      ByteBuffer b = ByteBuffer.allocate(5000);
      dev.readUncached(333, b);
      assertThat(b.array()).isEqualTo(Arrays.copyOfRange(data, 333, 5333));
      assertThat(dev.uncachedReadsBypassCache()).isFalse();
      assertThat(dev.slice(0, 10).uncachedReadsBypassCache()).isFalse();
      assertThat(dev.directIoProblem()).isNotNull();
    }
  }

  @Test
  void readOnlyDeviceRefusesWrites() throws IOException {
    try (FileBlockDevice dev = FileBlockDevice.open(image(4096), false)) {
      assertThatThrownBy(() -> dev.write(0, ByteBuffer.allocate(1)))
          .hasMessageContaining("read-only");
    }
  }

  @Test
  void regularFilesAndCharacterDevicesAreNotTreatedAsBlockDevices() throws IOException {
    assertThat(FileBlockDevice.blockDeviceNumber(image(4096))).isNull();
    assertThat(FileBlockDevice.blockDeviceNumber(Path.of("/dev/null"))).isNull();
  }

  @Test
  void blockDeviceSizeComesFromSysfsInSectorsOf512() throws IOException {
    // dev_t encodings as glibc's makedev builds them
    assertThat(FileBlockDevice.major(0x800)).isEqualTo(8);
    assertThat(FileBlockDevice.minor(0x800)).isZero();
    assertThat(FileBlockDevice.major(0x10301)).isEqualTo(259);
    assertThat(FileBlockDevice.minor(0x10301)).isEqualTo(1);
    assertThat(FileBlockDevice.major(0x10072cL)).isEqualTo(7);
    assertThat(FileBlockDevice.minor(0x10072cL)).isEqualTo(300);

    Path sys = tmp.resolve("sys");
    Files.createDirectories(sys.resolve("dev/block/259:1"));
    Files.writeString(sys.resolve("dev/block/259:1/size"), "2097152\n");
    assertThat(FileBlockDevice.sysfsSize(sys, 0x10301)).isEqualTo(1L << 30);
    assertThatThrownBy(() -> FileBlockDevice.sysfsSize(sys, 0x800))
        .hasMessageContaining("8:0")
        .hasMessageContaining("is /sys mounted?");
  }
}
