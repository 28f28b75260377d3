package dev.kubeos.formats.chunk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubeos.formats.digest.Sha256;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DeltaPlanTest {
  static final ChunkerParams P = new ChunkerParams(512, 1024, 2048, 4096);

  /** Ten chunks of 1000..1009 bytes; chunk 4 is all zeros. */
  static ChunkIndex ten() {
    List<Chunk> chunks = new ArrayList<>();
    long at = 0;
    for (int i = 0; i < 10; i++) {
      int len = 1000 + i;
      chunks.add(new Chunk(at, len, i == 4 ? null : new ChunkId(i, 0, 0, 0), i == 4));
      at += len;
    }
    return new ChunkIndex(P, "x.img", at, Sha256.of(new byte[32]), chunks);
  }

  @Test
  void everythingMissingIsOneCoalescedRange() {
    DeltaPlan p = DeltaPlan.plan(ten(), DeltaPlan.InPlace.NONE, Map.of(), 1 << 20);
    // the zero chunk splits the missing chunks into two runs
    assertThat(p.fetches()).hasSize(2);
    assertThat(p.fetches().get(0).chunks()).hasSize(4);
    assertThat(p.fetches().get(0).offset()).isZero();
    assertThat(p.fetches().get(1).offset()).isEqualTo(ten().chunks().get(5).offset());
    assertThat(p.stats().fetchBytes()).isEqualTo(ten().imageSize() - 1004);
    assertThat(p.stats().zeroBytes()).isEqualTo(1004);
    assertThat(p.local())
        .singleElement()
        .satisfies(s -> assertThat(s.action()).isEqualTo(DeltaPlan.Action.ZERO));
  }

  @Test
  void seedChunksAreCopiedInPlaceOnesSkippedAndGapsSplitRanges() {
    ChunkIndex idx = ten();
    Map<ChunkId, Long> seed = new HashMap<>();
    seed.put(new ChunkId(2, 0, 0, 0), 77L);
    seed.put(new ChunkId(7, 0, 0, 0), 5L);
    DeltaPlan p = DeltaPlan.plan(idx, i -> i == 8 || i == 4, seed, 1 << 20);
    assertThat(p.fetches())
        .extracting(r -> r.chunks().size())
        .containsExactly(2, 1, 2, 1); // 0-1, 3, 5-6, 9
    assertThat(p.local())
        .extracting(DeltaPlan.Step::action)
        .containsExactly(
            DeltaPlan.Action.COPY,
            DeltaPlan.Action.IN_PLACE,
            DeltaPlan.Action.COPY,
            DeltaPlan.Action.IN_PLACE);
    assertThat(p.local().get(0).seedOffset()).isEqualTo(77L);
    DeltaPlan.Stats s = p.stats();
    assertThat(s.inPlaceBytes() + s.zeroBytes() + s.copyBytes() + s.fetchBytes())
        .isEqualTo(idx.imageSize());
    assertThat(s.ranges()).isEqualTo(4);
    for (DeltaPlan.FetchRange r : p.fetches()) {
      long len = r.chunks().stream().mapToLong(Chunk::length).sum();
      assertThat(r.length()).isEqualTo(len);
      assertThat(r.offset()).isEqualTo(r.chunks().get(0).offset());
    }
  }

  @Test
  void rangesAreSplitAtMaxRangeBytesButNeverBelowOneChunk() {
    DeltaPlan p = DeltaPlan.plan(ten(), DeltaPlan.InPlace.NONE, Map.of(), 2500);
    assertThat(p.fetches()).allSatisfy(r -> assertThat(r.chunks().size()).isBetween(1, 2));
    assertThat(p.fetches()).allSatisfy(r -> assertThat(r.length()).isLessThanOrEqualTo(2500));
    DeltaPlan tiny = DeltaPlan.plan(ten(), DeltaPlan.InPlace.NONE, Map.of(), 10);
    assertThat(tiny.fetches()).hasSize(9);
  }

  @Test
  void aTargetThatHoldsEverythingFetchesNothing() {
    DeltaPlan p = DeltaPlan.plan(ten(), i -> true, Map.of(), 1 << 20);
    assertThat(p.fetches()).isEmpty();
    assertThat(p.stats().inPlaceBytes()).isEqualTo(ten().imageSize());
    assertThat(p.stats().fetchedFraction()).isZero();
  }
}
