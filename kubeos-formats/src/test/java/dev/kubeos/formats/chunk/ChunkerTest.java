package dev.kubeos.formats.chunk;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class ChunkerTest {
  /** Small chunks so that a few hundred KiB give many of them. */
  static final ChunkerParams P = new ChunkerParams(512, 1024, 4096, 16384);

  static byte[] random(long seed, int size) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  static List<Chunk> chunk(byte[] data, int... pieces) {
    List<Chunk> out = new ArrayList<>();
    Chunker c = new Chunker(P, out::add);
    int at = 0;
    for (int i = 0; at < data.length; i++) {
      int n =
          pieces.length == 0 ? data.length : Math.min(pieces[i % pieces.length], data.length - at);
      c.update(data, at, n);
      at += n;
    }
    c.finish();
    return out;
  }

  @Property(tries = 60)
  void sameBytesGiveTheSameChunksHoweverTheyAreFed(
      @ForAll long seed,
      @ForAll @IntRange(min = 1, max = 300_000) int size,
      @ForAll @IntRange(min = 1, max = 70_000) int piece,
      @ForAll @IntRange(min = 1, max = 999) int other) {
    byte[] data = random(seed, size);
    assertThat(chunk(data, piece, other)).isEqualTo(chunk(data));
    assertThat(chunk(data)).isEqualTo(chunk(data.clone()));
  }

  @Property(tries = 60)
  void chunksAreContiguousBlockAlignedAndWithinTheBounds(
      @ForAll long seed, @ForAll @IntRange(min = 1, max = 300_000) int size) {
    byte[] data = random(seed, size);
    List<Chunk> chunks = chunk(data);
    long at = 0;
    for (int i = 0; i < chunks.size(); i++) {
      Chunk c = chunks.get(i);
      assertThat(c.offset()).isEqualTo(at);
      assertThat(c.length()).isLessThanOrEqualTo(P.maxSize());
      if (i < chunks.size() - 1) {
        assertThat(c.length()).isGreaterThanOrEqualTo(P.minSize());
        assertThat(c.end() % P.blockSize()).isZero();
      }
      byte[] part = Arrays.copyOfRange(data, (int) c.offset(), (int) c.end());
      assertThat(c.id()).isEqualTo(ChunkId.of(Chunker.sha256().digest(part)));
      at = c.end();
    }
    assertThat(at).isEqualTo(size);
  }

  @Property(tries = 80)
  void boundariesResynchroniseAfterInsertingBlocks(
      @ForAll long seed,
      @ForAll @IntRange(min = 64, max = 500) int blocks,
      @ForAll @IntRange(min = 0, max = 499) int insertAt,
      @ForAll @IntRange(min = 1, max = 40) int inserted) {
    int bs = P.blockSize();
    byte[] data = random(seed, blocks * bs);
    int at = Math.min(insertAt, blocks) * bs;
    byte[] extra = random(seed ^ 0x5eed, inserted * bs);
    byte[] changed = new byte[data.length + extra.length];
    System.arraycopy(data, 0, changed, 0, at);
    System.arraycopy(extra, 0, changed, at, extra.length);
    System.arraycopy(data, at, changed, at + extra.length, data.length - at);

    Set<ChunkId> after = new HashSet<>();
    chunk(changed).forEach(c -> after.add(c.id()));
    long missing =
        chunk(data).stream().filter(c -> !after.contains(c.id())).mapToLong(Chunk::length).sum();
    // only the chunk the insertion fell into and a short stretch after it differ
    assertThat(missing).isLessThanOrEqualTo(4L * P.maxSize());
  }

  @Test
  void averageChunkSizeIsNearTheTarget() {
    List<Chunk> chunks = chunk(random(42, 8 << 20));
    double avg = (8 << 20) / (double) chunks.size();
    assertThat(avg).isBetween(P.avgSize() * 0.6, P.avgSize() * 2.0);
  }

  @Test
  void zeroRunsBecomeFlaggedMaxSizeChunks() {
    byte[] data = new byte[200_000];
    byte[] head = random(7, 10_000);
    System.arraycopy(head, 0, data, 0, head.length);
    List<Chunk> chunks = chunk(data);
    List<Chunk> zeros = chunks.stream().filter(Chunk::zero).toList();
    assertThat(zeros).isNotEmpty().allSatisfy(c -> assertThat(c.id()).isNull());
    assertThat(zeros.subList(0, zeros.size() - 1))
        .allSatisfy(c -> assertThat(c.length()).isEqualTo(P.maxSize()));
    assertThat(chunks.get(0).zero()).isFalse();
    // a chunk that starts with data and runs into zeros hashes the zeros too
    Chunk first = chunks.get(0);
    byte[] part = Arrays.copyOfRange(data, 0, first.length());
    assertThat(first.id()).isEqualTo(ChunkId.of(Chunker.sha256().digest(part)));
  }

  @Test
  void aChunkThatStartsWithZerosStillHashesThem() {
    byte[] data = new byte[40_000];
    System.arraycopy(random(9, 30_000), 0, data, 10_000, 30_000);
    for (Chunk c : chunk(data)) {
      if (!c.zero()) {
        byte[] part = Arrays.copyOfRange(data, (int) c.offset(), (int) c.end());
        assertThat(c.id()).isEqualTo(ChunkId.of(Chunker.sha256().digest(part)));
      }
    }
  }
}
