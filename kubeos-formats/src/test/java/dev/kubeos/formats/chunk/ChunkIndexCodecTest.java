package dev.kubeos.formats.chunk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class ChunkIndexCodecTest {

  static ChunkIndex index(long seed, int size) {
    byte[] data = ChunkerTest.random(seed, size);
    Arrays.fill(data, size / 4, size * 3 / 4, (byte) 0); // some zero chunks
    return ChunkIndex.of(ChunkerTest.P, "rootfs-2.0.img", data);
  }

  @Property(tries = 40)
  void roundTrips(@ForAll long seed, @ForAll @IntRange(min = 0, max = 200_000) int size) {
    ChunkIndex index = index(seed, size);
    assertThat(ChunkIndexCodec.decode(ChunkIndexCodec.encode(index))).isEqualTo(index);
  }

  @Test
  void zeroChunksCostFourBytesAndOthersThirtySix() {
    ChunkIndex index = index(1, 150_000);
    long zeros = index.chunks().stream().filter(Chunk::zero).count();
    long others = index.chunks().size() - zeros;
    int header = 8 + 16 + 8 + 32 + 2 + "rootfs-2.0.img".length() + 4 + 32;
    assertThat(zeros).isPositive();
    assertThat(ChunkIndexCodec.encode(index)).hasSize((int) (header + 4 * zeros + 36 * others));
  }

  @Test
  void anyFlippedByteOrTruncationIsRefused() {
    byte[] bytes = ChunkIndexCodec.encode(index(2, 50_000));
    for (int i = 0; i < bytes.length; i += 7) {
      byte[] bad = bytes.clone();
      bad[i] ^= 0x10;
      assertThatThrownBy(() -> ChunkIndexCodec.decode(bad))
          .isInstanceOf(IllegalArgumentException.class);
    }
    assertThatThrownBy(() -> ChunkIndexCodec.decode(Arrays.copyOf(bytes, bytes.length - 1)))
        .hasMessageContaining("corrupt or truncated");
    assertThatThrownBy(() -> ChunkIndexCodec.decode("not an index at all, really".getBytes()))
        .hasMessageContaining("KBCHUNK1");
  }

  @Test
  void indexModelRefusesGapsAndWrongTotals() {
    ChunkIndex ok = index(3, 30_000);
    assertThatThrownBy(
            () ->
                new ChunkIndex(
                    ok.params(), "x.img", ok.imageSize() + 1, ok.imageSha256(), ok.chunks()))
        .hasMessageContaining("cover");
    assertThatThrownBy(
            () ->
                new ChunkIndex(
                    ok.params(),
                    "x.img",
                    ok.imageSize(),
                    ok.imageSha256(),
                    ok.chunks().subList(1, ok.chunks().size())))
        .hasMessageContaining("starts at");
    assertThatThrownBy(
            () ->
                new ChunkIndex(ok.params(), "../x", ok.imageSize(), ok.imageSha256(), ok.chunks()))
        .hasMessageContaining("plain file name");
  }
}
