package dev.kubeos.agent.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.agent.model.GptImageBuilder;
import dev.kubeos.agent.port.BlockDevice;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.api.agent.Slot;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** DiskLayout's checks on in-memory GPT images (the real-tool cross-checks are in the IT). */
class DiskLayoutTest {
  static final UUID A = UUID.fromString("aaaaaaaa-0000-4000-8000-00000000000a");
  static final UUID B = UUID.fromString("bbbbbbbb-0000-4000-8000-00000000000b");
  static final UUID ROOT = GptImageBuilder.LINUX_ROOT_X86_64;

  static AgentException layoutError(GptImageBuilder b) {
    MemoryBlockDevice dev = new MemoryBlockDevice(b.build());
    try {
      DiskLayout.read(dev, "/dev/mem");
    } catch (AgentException e) {
      assertThat(e.code()).isEqualTo(ErrorCode.DISK_LAYOUT);
      return e;
    }
    throw new AssertionError("expected a DISK_LAYOUT error");
  }

  @Test
  void findsSlotsByNameOn4096ByteSectors() throws IOException {
    GptImageBuilder b = new GptImageBuilder(4 << 20, 4096);
    long f = b.firstUsable();
    b.add("ROOT-B", ROOT, B, f, f + 99).add("ROOT-A", ROOT, A, f + 100, f + 199);
    MemoryBlockDevice dev = new MemoryBlockDevice(b.build());

    DiskLayout layout = DiskLayout.read(dev, "/dev/mem");

    assertThat(layout.table().sectorSize()).isEqualTo(4096);
    assertThat(layout.slotOffset(Slot.A)).isEqualTo((f + 100) * 4096);
    assertThat(layout.slotSize(Slot.B)).isEqualTo(100 * 4096);
    assertThat(layout.slotOfPartUuid(A)).contains(Slot.A);
    assertThat(layout.slotOfPartUuid(B)).contains(Slot.B);
    assertThat(layout.slotOfPartUuid(UUID.randomUUID())).isEmpty();
    assertThat(layout.esp()).isEmpty();
    assertThat(layout.persist()).isEmpty();

    BlockDevice slotA = layout.openSlot(dev, Slot.A);
    slotA.write(0, ByteBuffer.wrap(new byte[] {42}));
    assertThat(dev.copyOfRange((f + 100) * 4096, 1)).containsExactly(42);
    assertThatThrownBy(() -> slotA.write(100 * 4096, ByteBuffer.allocate(1)))
        .isInstanceOf(IOException.class);
  }

  @Test
  void missingRootBIsNamedWithThePartitionsFound() {
    GptImageBuilder b = new GptImageBuilder(1 << 20, 512);
    long f = b.firstUsable();
    b.add("ESP", GptImageBuilder.EFI_SYSTEM, UUID.randomUUID(), f, f + 9)
        .add("ROOT-A", ROOT, A, f + 10, f + 19)
        .add("root-b", ROOT, B, f + 20, f + 29);
    assertThat(layoutError(b))
        .hasMessageContaining("no GPT partition named ROOT-B")
        .hasMessageContaining("1:'ESP', 2:'ROOT-A', 3:'root-b'");
  }

  @Test
  void duplicateNamesAreRejected() {
    GptImageBuilder b = new GptImageBuilder(1 << 20, 512);
    long f = b.firstUsable();
    b.add("ROOT-A", ROOT, A, f, f + 9)
        .add("ROOT-B", ROOT, B, f + 10, f + 19)
        .add("ROOT-A", ROOT, UUID.randomUUID(), f + 20, f + 29);
    assertThat(layoutError(b)).hasMessageContaining("more than one partition named 'ROOT-A'");
  }

  @Test
  void overlappingPartitionsAreRejected() {
    GptImageBuilder b = new GptImageBuilder(1 << 20, 512);
    long f = b.firstUsable();
    b.add("ROOT-A", ROOT, A, f, f + 10).add("ROOT-B", ROOT, B, f + 10, f + 19);
    assertThat(layoutError(b)).hasMessageContaining("overlap").hasMessageContaining("'ROOT-A'");
  }

  @Test
  void partitionPastTheDiskEndIsRejected() {
    GptImageBuilder b = new GptImageBuilder(1 << 20, 512);
    long f = b.firstUsable();
    b.add("ROOT-A", ROOT, A, f, f + 9).add("ROOT-B", ROOT, B, f + 10, 5000);
    assertThat(layoutError(b)).hasMessageContaining("past the end of the 1048576-byte disk");
  }

  @Test
  void invertedRangeIsRejected() {
    GptImageBuilder b = new GptImageBuilder(1 << 20, 512);
    long f = b.firstUsable();
    b.add("ROOT-A", ROOT, A, f + 9, f).add("ROOT-B", ROOT, B, f + 10, f + 19);
    assertThat(layoutError(b)).hasMessageContaining("invalid sector range");
  }
}
