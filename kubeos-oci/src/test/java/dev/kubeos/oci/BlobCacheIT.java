package dev.kubeos.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.oci.model.Descriptor;
import dev.kubeos.oci.model.ManifestDocument;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The blob cache on a real file system: verified commits, LRU eviction, damaged files. */
class BlobCacheIT {
  @TempDir Path dir;

  static byte[] bytes(int n, int seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  static Descriptor descriptor(byte[] b) {
    return new Descriptor("x", ManifestDocument.sha256(b), b.length, null);
  }

  /** Streams {@code content} claimed to be {@code d} through the cache, to the end. */
  static void store(BlobCache cache, Descriptor d, byte[] content) throws IOException {
    InputStream verified =
        new VerifyingInputStream(
            new ByteArrayInputStream(content), d, "test blob", ErrorCode.CHECKSUM_MISMATCH);
    try (InputStream in = cache.storing(verified, d)) {
      in.transferTo(OutputStream.nullOutputStream());
    }
  }

  @Test
  void aVerifiedBlobIsCommittedAndReadBack() throws IOException {
    BlobCache cache = new BlobCache(dir, 1 << 20);
    byte[] a = bytes(1000, 1);
    Descriptor d = descriptor(a);
    assertThat(cache.open(d)).isEmpty();

    store(cache, d, a);

    assertThat(cache.file(d)).hasBinaryContent(a);
    try (InputStream in = cache.open(d).orElseThrow()) {
      assertThat(in.readAllBytes()).isEqualTo(a);
    }
    assertThat(dir.resolve("sha256")).isDirectoryNotContaining("glob:**.partial");
  }

  @Test
  void aBlobWhoseDigestDiffersIsNeverCommitted() {
    BlobCache cache = new BlobCache(dir, 1 << 20);
    byte[] a = bytes(1000, 1);
    Descriptor d = descriptor(a);
    byte[] tampered = a.clone();
    tampered[500] ^= 1;

    assertThatThrownBy(() -> store(cache, d, tampered))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CHECKSUM_MISMATCH));

    assertThat(cache.file(d)).doesNotExist();
    assertThat(dir.resolve("sha256")).isEmptyDirectory();
  }

  @Test
  void leastRecentlyUsedBlobsAreEvictedToStayWithinTheBound() throws IOException {
    BlobCache cache = new BlobCache(dir, 2500);
    byte[] a = bytes(1000, 1);
    byte[] b = bytes(1000, 2);
    byte[] c = bytes(1000, 3);
    byte[] huge = bytes(3000, 4);
    store(cache, descriptor(a), a);
    store(cache, descriptor(b), b);
    Files.setLastModifiedTime(cache.file(descriptor(a)), FileTime.fromMillis(1_000_000));
    Files.setLastModifiedTime(cache.file(descriptor(b)), FileTime.fromMillis(2_000_000));
    cache.open(descriptor(a)).orElseThrow().close(); // a is used again: b is now the oldest

    store(cache, descriptor(c), c);

    assertThat(cache.file(descriptor(a))).exists();
    assertThat(cache.file(descriptor(b))).doesNotExist();
    assertThat(cache.file(descriptor(c))).exists();
    assertThat(cache.size()).isEqualTo(2000);

    store(cache, descriptor(huge), huge); // larger than the bound: streams through uncached
    assertThat(cache.file(descriptor(huge))).doesNotExist();
    assertThat(cache.size()).isEqualTo(2000);
  }

  @Test
  void aDamagedCacheFileIsReportedAndRemoved() throws IOException {
    BlobCache cache = new BlobCache(dir, 1 << 20);
    byte[] a = bytes(1000, 1);
    Descriptor d = descriptor(a);
    store(cache, d, a);
    byte[] rotten = a.clone();
    rotten[10] ^= 1;
    Files.write(cache.file(d), rotten);

    assertThatThrownBy(
            () -> {
              try (InputStream in = cache.open(d).orElseThrow()) {
                in.transferTo(OutputStream.nullOutputStream());
              }
            })
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.IO_ERROR))
        .hasMessageContaining("damaged cache file was removed");

    assertThat(cache.file(d)).doesNotExist();
  }
}
