package dev.kubeos.agent.trust;

import dev.kubeos.agent.StageRequest;
import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.formats.trust.SignedPayload;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Signatures kept in memory by payload digest (tests, simulations). */
public final class MemorySignatureSource implements SignatureSource {
  private final Map<Sha256, List<SignedPayload>> published = new ConcurrentHashMap<>();

  /** Publishes {@code signature} for the payload with digest {@code digest}. */
  public MemorySignatureSource publish(Sha256 digest, SignedPayload signature) {
    published.computeIfAbsent(digest, d -> new ArrayList<>()).add(signature);
    return this;
  }

  @Override
  public List<SignedPayload> fetch(StageRequest request) {
    return List.copyOf(published.getOrDefault(Sha256.parse(request.sha256()), List.of()));
  }

  @Override
  public String describe(StageRequest request) {
    return "memory signatures of " + Sha256.parse(request.sha256());
  }
}
