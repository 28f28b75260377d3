package dev.kubeos.agent.trust;

import dev.kubeos.agent.StageRequest;
import dev.kubeos.formats.trust.SignedPayload;
import java.io.IOException;
import java.util.List;

/**
 * Chooses where a payload's signatures are by the kind of request: image requests ({@code --image},
 * upstream's docker/containerd types, KubeOS OS artifacts) read cosign's {@code sha256-<hex>.sig}
 * tag from the registry; URL payloads read the detached {@code <url>.sig}.
 *
 * @param images where image requests' signatures are
 * @param urls where URL payloads' signatures are
 */
public record PayloadSignatureSource(SignatureSource images, SignatureSource urls)
    implements SignatureSource {

  private SignatureSource of(StageRequest request) {
    return request.image() != null ? images : urls;
  }

  @Override
  public List<SignedPayload> fetch(StageRequest request) throws IOException {
    return of(request).fetch(request);
  }

  @Override
  public String describe(StageRequest request) {
    return of(request).describe(request);
  }
}
