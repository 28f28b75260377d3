package dev.kubeos.formats.chunk;

/**
 * One chunk of an image.
 *
 * @param offset byte offset in the image
 * @param length bytes (at most {@link ChunkerParams#maxSize()}; only the last one may be shorter
 *     than minSize)
 * @param id SHA-256 of the chunk's bytes; null for a zero chunk
 * @param zero whether every byte of the chunk is 0 (such chunks are written, never fetched)
 */
public record Chunk(long offset, int length, ChunkId id, boolean zero) {
  public Chunk {
    if (offset < 0 || length <= 0) {
      throw new IllegalArgumentException("bad chunk at " + offset + " length " + length);
    }
    if (zero != (id == null)) {
      throw new IllegalArgumentException("a zero chunk has no id and every other chunk has one");
    }
  }

  public long end() {
    return offset + length;
  }
}
