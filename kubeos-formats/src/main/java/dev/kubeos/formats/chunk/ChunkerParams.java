package dev.kubeos.formats.chunk;

/**
 * How an image is cut into chunks. Cut points are only ever at multiples of {@code blockSize}
 * (content moves through an ext4 image in whole file-system blocks); among those, a cut is made
 * after a block whose content hash matches a mask, with FastCDC's normalised masks (a stricter one
 * below {@code avgSize}, a looser one above) and hard {@code minSize}/{@code maxSize} bounds.
 *
 * @param blockSize granularity of cut points in bytes (a power of two, 512..65536)
 * @param minSize no cut before a chunk has this many bytes (a multiple of blockSize)
 * @param avgSize the size the masks aim for (blockSize times a power of two)
 * @param maxSize a cut is forced at this size (a multiple of blockSize)
 */
public record ChunkerParams(int blockSize, int minSize, int avgSize, int maxSize) {

  public ChunkerParams {
    if (blockSize < 512 || blockSize > 65536 || Integer.bitCount(blockSize) != 1) {
      throw new IllegalArgumentException(
          "blockSize must be a power of two between 512 and 65536, got " + blockSize);
    }
    for (int v : new int[] {minSize, avgSize, maxSize}) {
      if (v <= 0 || v % blockSize != 0) {
        throw new IllegalArgumentException(
            "chunk sizes must be positive multiples of the block size " + blockSize);
      }
    }
    if (!(minSize <= avgSize && avgSize <= maxSize)) {
      throw new IllegalArgumentException(
          "need minSize <= avgSize <= maxSize, got " + minSize + "/" + avgSize + "/" + maxSize);
    }
    if (Integer.bitCount(avgSize / blockSize) != 1 || avgSize / blockSize < 2) {
      throw new IllegalArgumentException(
          "avgSize must be the block size times a power of two >= 2, got " + avgSize);
    }
    if (maxSize > (16 << 20)) {
      throw new IllegalArgumentException("maxSize must be at most 16 MiB, got " + maxSize);
    }
  }

  /**
   * For ext4 root file-system images: 4 KiB blocks, chunks of 4 KiB / 16 KiB / 64 KiB. A rebuilt
   * image changes single scattered metadata blocks (directory blocks carry inode numbers, which
   * shift), so every byte of average chunk size multiplies the fetched bytes; 16 KiB keeps the
   * index at ~0.15% of the image (docs/delta.md has the measurements).
   */
  public static ChunkerParams ext4Defaults() {
    return new ChunkerParams(4096, 4 << 10, 16 << 10, 64 << 10);
  }

  int minBlocks() {
    return minSize / blockSize;
  }

  int maxBlocks() {
    return maxSize / blockSize;
  }

  int avgBlocks() {
    return avgSize / blockSize;
  }

  /** Mask used while the chunk is shorter than avgSize: one bit more than log2(avg blocks). */
  long smallMask() {
    return mask(Integer.numberOfTrailingZeros(avgBlocks()) + 1);
  }

  /** Mask used once the chunk reached avgSize: one bit less than log2(avg blocks). */
  long largeMask() {
    return mask(Math.max(0, Integer.numberOfTrailingZeros(avgBlocks()) - 1));
  }

  private static long mask(int bits) {
    // the high bits of the (finalised) block hash
    return bits == 0 ? 0 : -1L << (64 - bits);
  }
}
