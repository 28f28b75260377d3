package dev.kubeos.agent.oci;

import dev.kubeos.agent.oci.model.Descriptor;
import dev.kubeos.agent.oci.model.ImageReference;
import dev.kubeos.agent.port.RangeSource;
import dev.kubeos.api.agent.AgentException;
import java.io.IOException;
import java.io.InputStream;

/**
 * A registry blob by byte ranges ({@code GET /v2/<repo>/blobs/<digest>} with {@code Range}), for
 * delta staging. The size is the descriptor's, which the verified manifest vouches for. A failed
 * request surfaces as an IOException so the delta stager resumes it.
 */
final class RegistryRangeSource implements RangeSource {
  private final RegistryClient client;
  private final ImageReference ref;
  private final Descriptor blob;

  RegistryRangeSource(RegistryClient client, ImageReference ref, Descriptor blob) {
    this.client = client;
    this.ref = ref;
    this.blob = blob;
  }

  @Override
  public String describe() {
    return "raw image blob " + ref.registry() + "/" + ref.repository() + "@" + blob.digest();
  }

  @Override
  public long size() {
    return blob.size();
  }

  @Override
  public InputStream read(long offset, long length) throws IOException {
    try {
      return client.range(ref.repository(), blob.digest(), offset, length);
    } catch (AgentException e) {
      if (e.getCause() instanceof IOException io) {
        throw new IOException(e.getMessage(), io);
      }
      throw e;
    }
  }
}
