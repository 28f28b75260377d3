package dev.kubeos.formats.chunk;

import dev.kubeos.formats.digest.Sha256;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The chunk index published next to a raw root file-system image: how the image was chunked, the
 * chunks in order (contiguous, covering the image exactly), and the whole image's size and SHA-256.
 *
 * @param params the chunker that produced the chunks
 * @param imageName file name of the image, resolved against the index's own URL (like zsync's URL
 *     field); empty when unknown
 * @param imageSize bytes
 * @param imageSha256 digest of the whole image
 * @param chunks the chunks, in offset order
 */
public record ChunkIndex(
    ChunkerParams params,
    String imageName,
    long imageSize,
    Sha256 imageSha256,
    List<Chunk> chunks) {

  public ChunkIndex {
    Objects.requireNonNull(params, "params");
    Objects.requireNonNull(imageSha256, "imageSha256");
    imageName = imageName == null ? "" : imageName;
    if (imageName.contains("/") || imageName.equals("..") || imageName.length() > 255) {
      throw new IllegalArgumentException(
          "image name must be a plain file name (no '/'), got '" + imageName + "'");
    }
    chunks = List.copyOf(chunks);
    long at = 0;
    for (int i = 0; i < chunks.size(); i++) {
      Chunk c = chunks.get(i);
      if (c.offset() != at) {
        throw new IllegalArgumentException(
            "chunk " + i + " starts at " + c.offset() + " but the previous one ended at " + at);
      }
      if (c.length() > params.maxSize()) {
        throw new IllegalArgumentException(
            "chunk " + i + " has " + c.length() + " bytes, more than maxSize " + params.maxSize());
      }
      at = c.end();
    }
    if (at != imageSize) {
      throw new IllegalArgumentException(
          "the chunks cover " + at + " bytes but the image has " + imageSize);
    }
  }

  /** Chunks an in-memory image (tests, small inputs); I/O callers feed a {@link Chunker}. */
  public static ChunkIndex of(ChunkerParams params, String name, byte[] image) {
    List<Chunk> chunks = new ArrayList<>();
    Chunker chunker = new Chunker(params, chunks::add);
    chunker.update(image, 0, image.length);
    chunker.finish();
    return new ChunkIndex(
        params, name, image.length, Sha256.of(Chunker.sha256().digest(image)), chunks);
  }

  /** Number of distinct non-zero chunk ids. */
  public long distinctChunks() {
    return chunks.stream().filter(c -> !c.zero()).map(Chunk::id).distinct().count();
  }
}
