package dev.kubeos.agent.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.agent.port.BlockDevice;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class MemoryBlockDeviceTest {

  static ByteBuffer filled(int length, int value) {
    byte[] b = new byte[length];
    Arrays.fill(b, (byte) value);
    return ByteBuffer.wrap(b);
  }

  @Test
  void writeThatCrossesTheBudgetStoresUpToItThenThrows() throws IOException {
    MemoryBlockDevice dev = new MemoryBlockDevice(4096);
    dev.write(0, filled(100, 1));
    dev.failWritesAfter(150);
    dev.write(100, filled(100, 2)); // within the budget

    assertThatThrownBy(() -> dev.write(200, filled(100, 3)))
        .isInstanceOf(IOException.class)
        .hasMessageStartingWith("injected")
        .hasMessageContaining("after 50 of 100 bytes");

    byte[] data = dev.toByteArray();
    assertThat(data[199]).isEqualTo((byte) 2);
    assertThat(Arrays.copyOfRange(data, 200, 250)).containsOnly(3);
    assertThat(Arrays.copyOfRange(data, 250, 300)).containsOnly(0);
    assertThat(dev.writtenBytes()).isEqualTo(250);
  }

  @Test
  void afterTheBudgetIsSpentEveryWriteFailsUntilCleared() throws IOException {
    MemoryBlockDevice dev = new MemoryBlockDevice(1024);
    dev.failWritesAfter(0);
    assertThatThrownBy(() -> dev.write(0, filled(1, 9))).isInstanceOf(IOException.class);
    assertThat(dev.toByteArray()[0]).isZero();
    assertThat(dev.writtenBytes()).isZero();

    dev.clearFaults();
    dev.write(0, filled(1, 9));
    assertThat(dev.toByteArray()[0]).isEqualTo((byte) 9);
    assertThat(dev.writtenBytes()).isEqualTo(1);
  }

  @Test
  void slicesShareStorageBudgetAndCounters() throws IOException {
    MemoryBlockDevice dev = new MemoryBlockDevice(1000);
    BlockDevice slice = dev.slice(100, 200);
    dev.failWritesAfter(30);

    assertThatThrownBy(() -> slice.write(10, filled(40, 7))).hasMessageStartingWith("injected");
    slice.sync();

    assertThat(dev.copyOfRange(110, 30)).containsOnly(7);
    assertThat(dev.copyOfRange(140, 10)).containsOnly(0);
    assertThat(dev.writtenBytes()).isEqualTo(30);
    assertThat(dev.syncCount()).isEqualTo(1);
  }

  @Test
  void syncIsCountedAndCanFail() throws IOException {
    MemoryBlockDevice dev = new MemoryBlockDevice(10);
    dev.sync();
    dev.sync();
    dev.failSyncs();
    assertThatThrownBy(dev::sync).hasMessageStartingWith("injected");
    assertThat(dev.syncCount()).isEqualTo(3);
  }

  @Test
  void sliceBoundsAreEnforced() throws IOException {
    MemoryBlockDevice dev = new MemoryBlockDevice(1000);
    BlockDevice slice = dev.slice(100, 200);
    assertThat(slice.size()).isEqualTo(200);

    assertThatThrownBy(() -> slice.write(190, filled(11, 1))).hasMessageContaining("outside");
    assertThatThrownBy(() -> slice.read(-1, ByteBuffer.allocate(1)))
        .isInstanceOf(IOException.class);
    assertThatThrownBy(() -> slice.slice(150, 51)).isInstanceOf(IOException.class);
    assertThatThrownBy(() -> dev.slice(900, 101)).isInstanceOf(IOException.class);
    assertThat(dev.writtenBytes()).isZero();

    BlockDevice inner = slice.slice(50, 10);
    inner.write(0, filled(10, 5));
    ByteBuffer back = ByteBuffer.allocate(10);
    dev.read(150, back);
    assertThat(back.array()).containsOnly(5);
  }

  @Test
  void readsReturnWhatWasWrittenAndClosedDevicesRefuse() throws IOException {
    MemoryBlockDevice dev = new MemoryBlockDevice(new byte[] {1, 2, 3, 4});
    ByteBuffer dst = ByteBuffer.allocate(2);
    dev.readUncached(1, dst);
    assertThat(dst.array()).containsExactly(2, 3);
    assertThat(dev.uncachedReadsBypassCache()).isFalse();
    dev.close();
    assertThatThrownBy(() -> dev.read(0, ByteBuffer.allocate(1))).hasMessageContaining("closed");
  }
}
