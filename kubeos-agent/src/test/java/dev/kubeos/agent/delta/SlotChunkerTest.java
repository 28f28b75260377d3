package dev.kubeos.agent.delta;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubeos.agent.disk.FileBlockDevice;
import dev.kubeos.agent.port.BlockDevice;
import dev.kubeos.formats.chunk.Chunk;
import dev.kubeos.formats.chunk.ChunkId;
import dev.kubeos.formats.chunk.ChunkIndex;
import dev.kubeos.formats.chunk.ChunkerParams;
import dev.kubeos.formats.chunk.io.ChunkIndexFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SlotChunkerTest {
  @TempDir Path dir;

  /** 22 MiB of random blocks with repeats and zero runs, like a file system image. */
  private Path image() throws IOException {
    Random r = new Random(42);
    byte[] b = new byte[22 << 20];
    r.nextBytes(b);
    for (int i = 0; i < 40; i++) {
      int from = r.nextInt(b.length - (256 << 10));
      int len = (1 + r.nextInt(64)) << 12;
      if (i % 2 == 0) {
        java.util.Arrays.fill(b, from, from + len, (byte) 0);
      } else {
        int to = r.nextInt(b.length - len);
        System.arraycopy(b, from, b, to, len);
      }
    }
    return Files.write(dir.resolve("seed.img"), b);
  }

  @Test
  void segmentsOnSeveralThreadsFindEveryChunkOneThreadFinds() throws IOException {
    Path image = image();
    ChunkerParams params = ChunkerParams.ext4Defaults();
    ChunkIndex index = ChunkIndexFiles.index(image, params);
    Set<ChunkId> wanted = new HashSet<>();
    for (Chunk c : index.chunks()) {
      if (!c.zero()) {
        wanted.add(c.id());
      }
    }
    try (BlockDevice dev = FileBlockDevice.open(image, false)) {
      Map<ChunkId, Long> one = SlotChunker.locate(dev, dev.size(), params, wanted, 1);
      Map<ChunkId, Long> four = SlotChunker.locate(dev, dev.size(), params, wanted, 4);
      assertThat(one.keySet()).isEqualTo(wanted);
      assertThat(four.keySet()).isEqualTo(one.keySet());
      // every offset found on any thread holds the chunk's bytes
      byte[] all = Files.readAllBytes(image);
      for (Chunk c : index.chunks()) {
        if (!c.zero()) {
          long at = four.get(c.id());
          byte[] got = java.util.Arrays.copyOfRange(all, (int) at, (int) at + c.length());
          assertThat(ChunkId.of(java.security.MessageDigest.getInstance("SHA-256").digest(got)))
              .isEqualTo(c.id());
        }
      }
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }
}
