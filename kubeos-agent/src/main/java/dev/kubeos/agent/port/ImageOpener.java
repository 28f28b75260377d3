package dev.kubeos.agent.port;

import dev.kubeos.agent.model.Sha256;
import dev.kubeos.agent.payload.FetchOptions;

/** Resolves a container image reference into the rootfs tar it carries ({@code /os.tar}). */
@FunctionalInterface
public interface ImageOpener {

  /**
   * Resolves {@code reference} and checks its manifest digest against {@code expected} before any
   * blob is fetched.
   *
   * @param fetch {@code insecure()} allows plain http to the registry (--insecure-registry)
   */
  TarPayload open(String reference, Sha256 expected, FetchOptions fetch);
}
