package dev.kubeos.agent.delta;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.chunk.ChunkIndex;
import dev.kubeos.formats.chunk.io.ChunkIndexFiles;
import java.net.URI;

/** Where the image of a chunk index is. */
public final class DeltaImages {
  private DeltaImages() {}

  /**
   * The image URL: the index's image name resolved against the index URL (a sibling, like zsync's
   * relative URL field); without a name, the index URL minus {@link ChunkIndexFiles#SUFFIX}.
   */
  public static URI imageUrl(URI indexUrl, ChunkIndex index) {
    if (!index.imageName().isEmpty()) {
      return indexUrl.resolve("./" + encode(index.imageName()));
    }
    String s = indexUrl.toString();
    if (!s.endsWith(ChunkIndexFiles.SUFFIX)) {
      throw new AgentException(
          ErrorCode.PAYLOAD_INVALID,
          "the chunk index names no image and its URL does not end in "
              + ChunkIndexFiles.SUFFIX
              + ", so the image cannot be found");
    }
    return URI.create(s.substring(0, s.length() - ChunkIndexFiles.SUFFIX.length()));
  }

  private static String encode(String name) {
    try {
      return new URI(null, null, name, null).getRawPath();
    } catch (java.net.URISyntaxException e) {
      throw new AgentException(
          ErrorCode.PAYLOAD_INVALID, "the chunk index names an invalid image file '" + name + "'");
    }
  }
}
