package dev.kubeos.agent.port;

import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.oci.source.FetchOptions;

/**
 * Resolves a container image reference into the OS payload it carries: an upstream-style image's
 * {@code /os.tar}, or a KubeOS OS artifact's raw root file-system image (and chunk index).
 */
@FunctionalInterface
public interface ImageOpener {

  /**
   * Resolves {@code reference} and checks its manifest digest against {@code expected} before any
   * blob is fetched. Nothing is downloaded yet beyond the manifest.
   *
   * @param fetch {@code insecure()} allows plain http to the registry (--insecure-registry)
   */
  ResolvedImage resolve(String reference, Sha256 expected, FetchOptions fetch);

  /**
   * What an image resolved to: exactly one of the two is set.
   *
   * @param osTar an upstream-style image (docker/containerd image types) holding {@code /os.tar}
   * @param raw a KubeOS OS artifact (raw image, optionally with a chunk index for delta staging)
   */
  record ResolvedImage(TarPayload osTar, RawArtifact raw) {
    public ResolvedImage {
      if ((osTar == null) == (raw == null)) {
        throw new IllegalArgumentException("exactly one of osTar and raw");
      }
    }
  }
}
