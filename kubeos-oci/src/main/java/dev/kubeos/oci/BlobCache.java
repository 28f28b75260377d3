package dev.kubeos.oci;

import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.api.agent.IoFailure;
import dev.kubeos.oci.http.BlockReadingInputStream;
import dev.kubeos.oci.model.Descriptor;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Content-addressed blobs on PERSIST: {@code <dir>/sha256/<hex>}. A blob is written to a temp file
 * while it streams past and renamed into place only after its digest matched; a cached blob is
 * verified again while it is read (a damaged file is removed). The total size is bounded: the least
 * recently used blobs go first, and a blob larger than the bound is never cached.
 *
 * <p>Not thread-safe across processes; the agent's operation lock serialises stages.
 */
public final class BlobCache {
  public static final long DEFAULT_MAX_BYTES = 2L << 30;
  private static final System.Logger LOG = System.getLogger("kubeos.agent.oci");
  private static final String PARTIAL = ".partial";

  private final Path dir;
  private final long maxBytes;

  /**
   * @param root the cache root ({@code <state-dir>/blobs})
   * @param maxBytes size bound of all cached blobs together
   */
  public BlobCache(Path root, long maxBytes) {
    this.dir = root.resolve("sha256");
    this.maxBytes = maxBytes;
  }

  public Path file(Descriptor d) {
    return dir.resolve(d.digest().hex());
  }

  /** Whether {@link #storing} would keep a blob of this size (it fits the bound). */
  public boolean fits(Descriptor d) {
    return d.size() <= maxBytes;
  }

  /** The cached blob, re-verified while read, or empty when the cache does not hold it. */
  public Optional<InputStream> open(Descriptor d) throws IOException {
    Path f = file(d);
    if (!Files.isRegularFile(f) || Files.size(f) != d.size()) {
      return Optional.empty();
    }
    Files.setLastModifiedTime(f, FileTime.fromMillis(System.currentTimeMillis())); // LRU
    InputStream in;
    try {
      in = Files.newInputStream(f);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
    InputStream verified =
        new VerifyingInputStream(in, d, "cached blob " + f, ErrorCode.IO_ERROR) {
          @Override
          public int read(byte[] b, int off, int len) throws IOException {
            try {
              return super.read(b, off, len);
            } catch (RuntimeException e) {
              in.close();
              Files.deleteIfExists(f);
              throw e;
            }
          }
        };
    return Optional.of(verified);
  }

  /**
   * Wraps a verified blob stream so that its bytes land in the cache: the temp file is renamed into
   * place when the stream reaches its (verified) end, and removed when it is closed earlier.
   * Returns {@code in} unchanged when the blob is larger than the bound.
   */
  public InputStream storing(InputStream in, Descriptor d) throws IOException {
    if (d.size() > maxBytes) {
      LOG.log(
          System.Logger.Level.INFO,
          "blob " + d.digest() + " (" + d.size() + " bytes) exceeds the cache bound; not cached");
      return in;
    }
    Files.createDirectories(dir);
    Path tmp = dir.resolve(d.digest().hex() + PARTIAL);
    FileChannel ch =
        FileChannel.open(
            tmp,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE);
    OutputStream out = java.nio.channels.Channels.newOutputStream(ch);
    return new BlockReadingInputStream(in) {
      private boolean done;

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        int n;
        try {
          n = in.read(b, off, len);
        } catch (IOException | RuntimeException e) {
          abandon();
          throw e;
        }
        if (n > 0 && !done) {
          try {
            out.write(b, off, n);
          } catch (IOException e) {
            abandon();
            throw IoFailure.of(
                "caching blob " + d.digest() + " failed", "the blob cache " + dir, e);
          }
        } else if (n < 0 && !done) {
          done = true;
          commit(ch, tmp, d);
        }
        return n;
      }

      private void abandon() throws IOException {
        if (!done) {
          done = true;
          ch.close();
          Files.deleteIfExists(tmp);
        }
      }

      @Override
      public void close() throws IOException {
        try {
          abandon();
        } finally {
          in.close();
        }
      }
    };
  }

  /**
   * Renames the verified temp file into place without fsync: waiting for a 1 GiB layer to reach the
   * disk would hold up the stage for seconds (a third of a cold os.tar stage), while a cached blob
   * damaged by a crash before the kernel wrote it back fails its re-verification when read, is
   * removed, and is fetched again.
   */
  private void commit(FileChannel ch, Path tmp, Descriptor d) throws IOException {
    ch.close();
    evictFor(d.size());
    Files.move(tmp, file(d), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    LOG.log(System.Logger.Level.INFO, "cached blob " + d.digest() + " (" + d.size() + " bytes)");
  }

  /** Removes least recently used blobs until {@code incoming} more bytes fit into the bound. */
  private void evictFor(long incoming) throws IOException {
    List<Path> blobs = new ArrayList<>();
    long total = 0;
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
      for (Path p : s) {
        if (!p.getFileName().toString().endsWith(PARTIAL) && Files.isRegularFile(p)) {
          blobs.add(p);
          total += Files.size(p);
        }
      }
    }
    blobs.sort(Comparator.comparing(BlobCache::mtime));
    for (Path p : blobs) {
      if (total + incoming <= maxBytes) {
        break;
      }
      long size = Files.size(p);
      Files.deleteIfExists(p);
      total -= size;
      LOG.log(
          System.Logger.Level.INFO,
          "evicted cached blob " + p.getFileName() + " (" + size + " bytes)");
    }
  }

  private static FileTime mtime(Path p) {
    try {
      return Files.getLastModifiedTime(p);
    } catch (IOException e) {
      return FileTime.fromMillis(0);
    }
  }

  /** Bytes held by the cache (complete blobs only). */
  public long size() throws IOException {
    if (!Files.isDirectory(dir)) {
      return 0;
    }
    long total = 0;
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
      for (Path p : s) {
        if (!p.getFileName().toString().endsWith(PARTIAL)) {
          total += Files.size(p);
        }
      }
    }
    return total;
  }
}
