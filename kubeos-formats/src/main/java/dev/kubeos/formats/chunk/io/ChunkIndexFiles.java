package dev.kubeos.formats.chunk.io;

import dev.kubeos.formats.chunk.Chunk;
import dev.kubeos.formats.chunk.ChunkIndex;
import dev.kubeos.formats.chunk.ChunkIndexCodec;
import dev.kubeos.formats.chunk.Chunker;
import dev.kubeos.formats.chunk.ChunkerParams;
import dev.kubeos.formats.digest.Sha256;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;

/**
 * Chunks raw root file-system images and writes and reads their {@code .chunkidx} files (the image
 * builder writes them, the agent and the tools read them).
 */
public final class ChunkIndexFiles {
  private static final int IO_BYTES = 4 << 20;

  /** Suffix of the index file: {@code rootfs-V.img} gets {@code rootfs-V.img.chunkidx}. */
  public static final String SUFFIX = ".chunkidx";

  private ChunkIndexFiles() {}

  /** Where the index of {@code image} goes. */
  public static Path indexPathFor(Path image) {
    return image.resolveSibling(image.getFileName() + SUFFIX);
  }

  /** Chunks {@code image} and writes its index next to it (atomically); returns the index. */
  public static ChunkIndex writeIndex(Path image, ChunkerParams params) throws IOException {
    ChunkIndex index = index(image, params);
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

  /** Chunks a whole image file into an index (one pass: chunks and the image digest). */
  public static ChunkIndex index(Path image, ChunkerParams params) throws IOException {
    List<Chunk> chunks = new ArrayList<>();
    Chunker chunker = new Chunker(params, chunks::add);
    MessageDigest whole = Chunker.sha256();
    byte[] buf = new byte[IO_BYTES];
    long size = 0;
    try (InputStream in = Files.newInputStream(image)) {
      for (int n = in.readNBytes(buf, 0, buf.length);
          n > 0;
          n = in.readNBytes(buf, 0, buf.length)) {
        chunker.update(buf, 0, n);
        whole.update(buf, 0, n);
        size += n;
      }
    }
    chunker.finish();
    return new ChunkIndex(
        params, image.getFileName().toString(), size, Sha256.of(whole.digest()), chunks);
  }
}
