package dev.kubeos.agent.delta;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.chunk.ChunkIndex;
import dev.kubeos.formats.chunk.ChunkIndexCodec;
import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.oci.source.PayloadSource;
import java.io.IOException;
import java.io.InputStream;

/** Reads a chunk index and checks that it describes the image a request names. */
public final class ChunkIndexLoader {
  private ChunkIndexLoader() {}

  /**
   * Reads and parses the chunk index and checks that it describes the image {@code expected} names.
   *
   * @throws AgentException PAYLOAD_INVALID (not an index, corrupt), CHECKSUM_MISMATCH (describes
   *     another image), DOWNLOAD_FAILED
   */
  public static ChunkIndex load(PayloadSource src, Sha256 expected) throws IOException {
    byte[] bytes;
    try (InputStream in = src.open(0).stream()) {
      bytes = in.readNBytes(ChunkIndexCodec.MAX_BYTES + 1);
    }
    ChunkIndex index;
    try {
      index = ChunkIndexCodec.decode(bytes);
    } catch (IllegalArgumentException e) {
      throw new AgentException(
          ErrorCode.PAYLOAD_INVALID,
          src.describe()
              + " is not a usable chunk index: "
              + e.getMessage()
              + "; point --url at the rootfs-V.img.chunkidx the image builder wrote");
    }
    if (!index.imageSha256().equals(expected)) {
      throw new AgentException(
          ErrorCode.CHECKSUM_MISMATCH,
          src.describe()
              + " describes the image "
              + index.imageSha256()
              + " but the request expects "
              + expected
              + "; nothing was written. Check the digest (it is the image's, as in"
              + " rootfs-V.img.sha256) or the index URL");
    }
    return index;
  }
}
