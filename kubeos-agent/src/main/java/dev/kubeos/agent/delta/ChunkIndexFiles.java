package dev.kubeos.agent.delta;

import dev.kubeos.formats.chunk.ChunkIndex;
import dev.kubeos.formats.chunk.ChunkIndexCodec;
import dev.kubeos.formats.chunk.ChunkerParams;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Writes and reads {@code .chunkidx} files next to raw root file-system images. */
public final class ChunkIndexFiles {
  /** Suffix of the index file: {@code rootfs-V.img} gets {@code rootfs-V.img.chunkidx}. */
  public static final String SUFFIX = ".chunkidx";

  private ChunkIndexFiles() {}

  /** Where the index of {@code image} goes. */
  public static Path indexPathFor(Path image) {
    return image.resolveSibling(image.getFileName() + SUFFIX);
  }

  /** Chunks {@code image} and writes its index next to it (atomically); returns the index. */
  public static ChunkIndex writeIndex(Path image, ChunkerParams params) throws IOException {
    ChunkIndex index = SlotChunker.index(image, params);
    Path target = indexPathFor(image);
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    Files.write(tmp, ChunkIndexCodec.encode(index));
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    return index;
  }

  /** Reads an index file. */
  public static ChunkIndex read(Path file) throws IOException {
    try {
      return ChunkIndexCodec.decode(Files.readAllBytes(file));
    } catch (IllegalArgumentException e) {
      throw new IOException(file + ": " + e.getMessage(), e);
    }
  }
}
