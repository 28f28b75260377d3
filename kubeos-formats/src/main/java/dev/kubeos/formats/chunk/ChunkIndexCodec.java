package dev.kubeos.formats.chunk;

import dev.kubeos.formats.digest.Sha256;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The binary form of a {@link ChunkIndex} ({@code .chunkidx}), big-endian:
 *
 * <pre>
 * "KBCHUNK1"                          8 bytes magic (format version 1)
 * blockSize minSize avgSize maxSize   4 x u32
 * imageSize                           u64
 * imageSha256                         32 bytes
 * nameLength name                     u16 + UTF-8
 * chunkCount                          u32
 * per chunk: length|zeroFlag          u32 (bit 31 = all-zero chunk)
 *            sha256                   32 bytes, absent for zero chunks
 * trailer: sha256 of all bytes above  32 bytes
 * </pre>
 *
 * Offsets are implicit (chunks are contiguous). About 36 bytes per chunk: ~0.6 MB for a 1 GiB image
 * with 64 KiB chunks. Pure.
 */
public final class ChunkIndexCodec {
  static final byte[] MAGIC = "KBCHUNK1".getBytes(StandardCharsets.US_ASCII);
  private static final int ZERO_FLAG = 1 << 31;

  /** Largest index accepted when decoding (a 64 GiB image at minimum chunk size stays below). */
  public static final int MAX_BYTES = 256 << 20;

  private ChunkIndexCodec() {}

  public static byte[] encode(ChunkIndex index) {
    byte[] name = index.imageName().getBytes(StandardCharsets.UTF_8);
    int size = 8 + 16 + 8 + 32 + 2 + name.length + 4 + 32;
    for (Chunk c : index.chunks()) {
      size += c.zero() ? 4 : 36;
    }
    ByteBuffer b = ByteBuffer.allocate(size);
    b.put(MAGIC);
    ChunkerParams p = index.params();
    b.putInt(p.blockSize()).putInt(p.minSize()).putInt(p.avgSize()).putInt(p.maxSize());
    b.putLong(index.imageSize());
    b.put(hexBytes(index.imageSha256()));
    b.putShort((short) name.length).put(name);
    b.putInt(index.chunks().size());
    for (Chunk c : index.chunks()) {
      b.putInt(c.length() | (c.zero() ? ZERO_FLAG : 0));
      if (!c.zero()) {
        b.putLong(c.id().w0()).putLong(c.id().w1()).putLong(c.id().w2()).putLong(c.id().w3());
      }
    }
    MessageDigest md = Chunker.sha256();
    md.update(b.array(), 0, b.position());
    b.put(md.digest());
    return b.array();
  }

  /**
   * Parses and checks an index.
   *
   * @throws IllegalArgumentException naming what is wrong (not an index, truncated, corrupt)
   */
  public static ChunkIndex decode(byte[] bytes) {
    if (bytes.length < MAGIC.length + 32
        || !Arrays.equals(Arrays.copyOf(bytes, MAGIC.length), MAGIC)) {
      throw new IllegalArgumentException(
          "not a KubeOS chunk index (expected the magic 'KBCHUNK1' at the start)");
    }
    if (bytes.length > MAX_BYTES) {
      throw new IllegalArgumentException("chunk index of " + bytes.length + " bytes is too large");
    }
    MessageDigest md = Chunker.sha256();
    md.update(bytes, 0, bytes.length - 32);
    if (!Arrays.equals(md.digest(), Arrays.copyOfRange(bytes, bytes.length - 32, bytes.length))) {
      throw new IllegalArgumentException(
          "chunk index is corrupt or truncated: its trailing SHA-256 does not match its "
              + (bytes.length - 32)
              + " bytes");
    }
    ByteBuffer b = ByteBuffer.wrap(bytes, 0, bytes.length - 32);
    try {
      b.position(MAGIC.length);
      ChunkerParams params = new ChunkerParams(b.getInt(), b.getInt(), b.getInt(), b.getInt());
      long imageSize = b.getLong();
      byte[] digest = new byte[32];
      b.get(digest);
      byte[] name = new byte[Short.toUnsignedInt(b.getShort())];
      b.get(name);
      int count = b.getInt();
      if (count < 0 || count > b.remaining() / 4) {
        throw new IllegalArgumentException("chunk count " + count + " does not fit the index");
      }
      List<Chunk> chunks = new ArrayList<>(count);
      long offset = 0;
      for (int i = 0; i < count; i++) {
        int word = b.getInt();
        boolean zero = (word & ZERO_FLAG) != 0;
        int length = word & ~ZERO_FLAG;
        ChunkId id = zero ? null : new ChunkId(b.getLong(), b.getLong(), b.getLong(), b.getLong());
        chunks.add(new Chunk(offset, length, id, zero));
        offset += length;
      }
      if (b.hasRemaining()) {
        throw new IllegalArgumentException(
            b.remaining() + " unexpected bytes after the last chunk");
      }
      return new ChunkIndex(
          params, new String(name, StandardCharsets.UTF_8), imageSize, Sha256.of(digest), chunks);
    } catch (BufferUnderflowException e) {
      throw new IllegalArgumentException("chunk index ends in the middle of a field", e);
    }
  }

  private static byte[] hexBytes(Sha256 s) {
    byte[] out = new byte[32];
    String hex = s.hex();
    for (int i = 0; i < 32; i++) {
      out[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
    }
    return out;
  }
}
