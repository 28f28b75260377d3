package dev.kubeos.agent.trust;

import dev.kubeos.agent.StageRequest;
import dev.kubeos.formats.trust.SignedPayload;
import java.io.IOException;
import java.util.List;

/**
 * Where the signatures of a payload are published: {@code <url>.sig} for http/file payloads ({@link
 * DetachedSignatureSource}); for OCI payloads the {@code sha256-<hex>.sig} tag of the payload's
 * repository (read with the registry client and {@link
 * dev.kubeos.formats.trust.SignatureManifest#read}).
 */
public interface SignatureSource {

  /**
   * The signature documents published for the payload of {@code request} (whose digest is {@code
   * request.sha256()}); empty when none is published.
   *
   * @throws IOException or {@link dev.kubeos.api.agent.AgentException} DOWNLOAD_FAILED when the
   *     place could not be asked (network, server error)
   */
  List<SignedPayload> fetch(StageRequest request) throws IOException;

  /** Where {@link #fetch} looks, for messages. */
  String describe(StageRequest request);
}
