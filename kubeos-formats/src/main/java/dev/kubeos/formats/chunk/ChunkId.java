package dev.kubeos.formats.chunk;

import dev.kubeos.formats.digest.Sha256;
import java.nio.ByteBuffer;

/**
 * The SHA-256 of one chunk, held as four longs (compact, cheap equals/hashCode in lookup tables).
 */
public record ChunkId(long w0, long w1, long w2, long w3) {

  /** From the 32 bytes {@code MessageDigest("SHA-256")} returns. */
  public static ChunkId of(byte[] sha256) {
    if (sha256.length != 32) {
      throw new IllegalArgumentException("a chunk id is 32 bytes, got " + sha256.length);
    }
    ByteBuffer b = ByteBuffer.wrap(sha256);
    return new ChunkId(b.getLong(), b.getLong(), b.getLong(), b.getLong());
  }

  /** The 32 digest bytes. */
  public byte[] bytes() {
    return ByteBuffer.allocate(32).putLong(w0).putLong(w1).putLong(w2).putLong(w3).array();
  }

  public Sha256 sha256() {
    return Sha256.of(bytes());
  }

  @Override
  public String toString() {
    return sha256().hex();
  }
}
