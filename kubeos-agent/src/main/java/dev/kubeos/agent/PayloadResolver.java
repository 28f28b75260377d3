package dev.kubeos.agent;

import dev.kubeos.agent.port.PayloadOpener;
import dev.kubeos.agent.stage.ResolvedPayload;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.oci.source.PayloadSource;

/**
 * Turns a {@link StageRequest} into the one {@link ResolvedPayload} it names: the only place that
 * asks which format a request is.
 */
public final class PayloadResolver {
  private final PayloadOpener urls;

  public PayloadResolver(PayloadOpener urls) {
    this.urls = urls;
  }

  /**
   * The payload of {@code request}. A URL's source is opened (a refused URL ends here, before any
   * signature is fetched; no byte is read yet); a container image is only named, its manifest is
   * fetched when the slot is written.
   *
   * @param expected the request's digest, parsed
   */
  public ResolvedPayload resolve(StageRequest request, Sha256 expected) {
    switch (request.format()) {
      case RAW:
        return new ResolvedPayload.RawImage(open(request), expected);
      case TAR:
        return new ResolvedPayload.RootfsTar(open(request), expected);
      case DELTA:
        return new ResolvedPayload.ChunkIndexed(
            open(request), request.url(), request.fetch(), expected);
      case IMAGE:
        return new ResolvedPayload.RegistryImage(request.image(), expected, request.fetch());
      default:
        throw new AgentException(ErrorCode.INVALID_REQUEST, "unknown format " + request.format());
    }
  }

  private PayloadSource open(StageRequest request) {
    return urls.open(request.url(), request.fetch());
  }
}
