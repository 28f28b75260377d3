package dev.kubeos.formats.chunk;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Block-aligned content-defined chunking. Bytes are fed in any pieces; the chunker looks at them
 * block by block ({@link ChunkerParams#blockSize()}), and after each block decides from that
 * block's content alone (a 64-bit hash of it) whether a chunk ends there, within the min/max
 * bounds. Because the decision depends only on the block's bytes and the distance to the previous
 * cut, boundaries re-synchronise shortly after an insertion or deletion of whole blocks, which is
 * how content moves in an ext4 image. Every completed chunk is passed to the sink with its offset,
 * length and SHA-256 (no digest is computed for all-zero chunks, which are flagged instead).
 *
 * <p>Zero runs (free space in a file-system image) are kept apart: a chunk also ends where the
 * content switches between all-zero and non-zero blocks (once it has minSize bytes), and an
 * all-zero block never ends a chunk by its hash, so free space becomes max-size zero chunks that
 * are flagged instead of hashed. Pure: no I/O; not thread-safe.
 */
public final class Chunker {
  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final byte[] ZEROS = new byte[64 << 10];

  /** Receives each chunk as soon as it is complete. */
  @FunctionalInterface
  public interface Sink {
    void accept(Chunk chunk);
  }

  private final ChunkerParams params;
  private final Sink sink;
  private final int blockSize;
  private final long smallMask;
  private final long largeMask;
  private final byte[] block;
  private final MessageDigest md;
  private int blockFill;
  private long position;
  private long chunkStart;
  private int chunkBlocks;
  private long zeroRun; // leading zero bytes of the current chunk not yet fed to md
  private boolean chunkZero = true;
  private boolean finished;

  public Chunker(ChunkerParams params, Sink sink) {
    this.params = params;
    this.sink = sink;
    this.blockSize = params.blockSize();
    this.smallMask = params.smallMask();
    this.largeMask = params.largeMask();
    this.block = new byte[blockSize];
    this.md = sha256();
  }

  public ChunkerParams params() {
    return params;
  }

  /** Bytes consumed so far. */
  public long position() {
    return position + blockFill;
  }

  public void update(byte[] b, int off, int len) {
    if (finished) {
      throw new IllegalStateException("chunker already finished");
    }
    while (len > 0) {
      if (blockFill == 0 && len >= blockSize) {
        block(b, off);
        off += blockSize;
        len -= blockSize;
        continue;
      }
      int n = Math.min(len, blockSize - blockFill);
      System.arraycopy(b, off, block, blockFill, n);
      blockFill += n;
      off += n;
      len -= n;
      if (blockFill == blockSize) {
        blockFill = 0;
        block(block, 0);
      }
    }
  }

  /** Consumes the remaining bytes of {@code buf} (heap or direct). */
  public void update(ByteBuffer buf) {
    if (buf.hasArray()) {
      update(buf.array(), buf.arrayOffset() + buf.position(), buf.remaining());
      buf.position(buf.limit());
      return;
    }
    byte[] tmp = new byte[Math.min(buf.remaining(), 256 << 10)];
    while (buf.hasRemaining()) {
      int n = Math.min(tmp.length, buf.remaining());
      buf.get(tmp, 0, n);
      update(tmp, 0, n);
    }
  }

  /** Ends the input: the last chunk (possibly shorter than a block) is emitted. */
  public void finish() {
    if (finished) {
      return;
    }
    finished = true;
    if (blockFill > 0) {
      boolean zero = isZero(block, 0, blockFill);
      feed(block, 0, blockFill, zero);
      position += blockFill;
      chunkBlocks++;
      blockFill = 0;
    }
    if (chunkBlocks > 0) {
      emit();
    }
  }

  private void block(byte[] b, int off) {
    long h = 0x9E3779B97F4A7C15L;
    long or = 0;
    for (int i = off, end = off + blockSize; i < end; i += 8) {
      long v = (long) LONGS.get(b, i);
      or |= v;
      h = Long.rotateLeft((h ^ v) * 0xBF58476D1CE4E5B9L, 27);
    }
    boolean zero = or == 0;
    if (chunkBlocks >= params.minBlocks() && zero != chunkZero) {
      emit(); // free space starts or ends: a content-defined cut that keeps zero runs apart
    }
    feed(b, off, blockSize, zero);
    position += blockSize;
    chunkBlocks++;
    if (chunkBlocks >= params.maxBlocks()) {
      emit();
      return;
    }
    if (zero || chunkBlocks < params.minBlocks()) {
      return;
    }
    long mask = chunkBlocks < params.avgBlocks() ? smallMask : largeMask;
    if ((fmix(h) & mask) == 0) {
      emit();
    }
  }

  private void feed(byte[] b, int off, int len, boolean zero) {
    if (zero && chunkZero) {
      zeroRun += len;
      return;
    }
    if (chunkZero) {
      chunkZero = false;
      for (long left = zeroRun; left > 0; ) {
        int n = (int) Math.min(left, ZEROS.length);
        md.update(ZEROS, 0, n);
        left -= n;
      }
      zeroRun = 0;
    }
    md.update(b, off, len);
  }

  private void emit() {
    int length = (int) (position - chunkStart);
    ChunkId id = chunkZero ? null : ChunkId.of(md.digest());
    Chunk c = new Chunk(chunkStart, length, id, chunkZero);
    md.reset();
    chunkStart = position;
    chunkBlocks = 0;
    zeroRun = 0;
    chunkZero = true;
    sink.accept(c);
  }

  static boolean isZero(byte[] b, int off, int len) {
    for (int i = off; i < off + len; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }

  private static long fmix(long k) {
    k ^= k >>> 33;
    k *= 0xff51afd7ed558ccdL;
    k ^= k >>> 33;
    k *= 0xc4ceb9fe1a85ec53L;
    k ^= k >>> 33;
    return k;
  }

  /** A fresh SHA-256 digest. */
  public static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available in this JVM", e);
    }
  }
}
