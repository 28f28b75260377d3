package dev.kubeos.oci;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.oci.http.DownloadBudget;
import dev.kubeos.oci.model.Descriptor;
import dev.kubeos.oci.model.ImageReference;
import dev.kubeos.oci.source.RangeSource;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.function.Supplier;

/**
 * A registry blob by byte ranges ({@code GET /v2/<repo>/blobs/<digest>} with {@code Range}), for
 * delta staging. The size is the descriptor's, which the verified manifest vouches for. A failed
 * request surfaces as an IOException so the delta stager resumes it.
 */
public final class RegistryRangeSource implements RangeSource {
  private final RegistryClient client;
  private final ImageReference ref;
  private final Descriptor blob;
  private final DownloadBudget budget;
  private volatile boolean multiRange = true;

  /** All range requests of this source are one download, held to the client's limits. */
  public RegistryRangeSource(RegistryClient client, ImageReference ref, Descriptor blob) {
    this.client = client;
    this.ref = ref;
    this.blob = blob;
    this.budget = client.budget(describe());
  }

  @Override
  public String describe() {
    return "raw image blob " + ref.registry() + "/" + ref.repository() + "@" + blob.digest();
  }

  @Override
  public long size() {
    return blob.size();
  }

  /** All spans in one request; span by span from then on if the registry does not serve that. */
  @Override
  public Spans readAll(List<Span> spans) throws IOException {
    if (spans.size() > 1 && multiRange) {
      Spans all = unwrap(() -> client.ranges(ref.repository(), blob.digest(), spans, budget));
      if (all != null) {
        return all;
      }
      multiRange = false;
    }
    return RangeSource.super.readAll(spans);
  }

  @Override
  public InputStream read(long offset, long length) throws IOException {
    return unwrap(() -> client.range(ref.repository(), blob.digest(), offset, length, budget));
  }

  /** A network failure becomes an IOException, which the delta stager resumes. */
  private static <T> T unwrap(Supplier<T> call) throws IOException {
    try {
      return call.get();
    } catch (AgentException e) {
      if (e.getCause() instanceof IOException io) {
        throw new IOException(e.getMessage(), io);
      }
      throw e;
    }
  }
}
