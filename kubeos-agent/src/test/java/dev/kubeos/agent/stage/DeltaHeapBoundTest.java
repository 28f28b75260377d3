package dev.kubeos.agent.stage;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubeos.formats.chunk.ChunkIndex;
import dev.kubeos.formats.chunk.ChunkerParams;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The heap bound a delta stage is checked against before it starts (else: the whole image). */
class DeltaHeapBoundTest {
  @Test
  void onlyChunksWithDataCountTowardsTheHeapADeltaNeeds() {
    byte[] image = new byte[4 << 20]; // 2 MiB of data, then 2 MiB of zeros
    byte[] data = new byte[2 << 20];
    new Random(1).nextBytes(data);
    System.arraycopy(data, 0, image, 0, data.length);
    ChunkIndex index = ChunkIndex.of(ChunkerParams.ext4Defaults(), "img", image);
    long withData = index.chunks().stream().filter(c -> !c.zero()).count();
    assertThat(withData).isPositive().isLessThan(index.chunks().size());
    assertThat(DeltaPayloadWriter.heapNeeded(index))
        .isEqualTo(withData * DeltaPayloadWriter.HEAP_BYTES_PER_CHUNK);
  }
}
