package dev.kubeos.oci;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.oci.RegistryClient.FetchedManifest;
import dev.kubeos.oci.model.ManifestDocument;
import dev.kubeos.oci.model.MediaTypes;
import java.util.Map;
import java.util.Optional;

/** GET of a manifest by tag or digest (OCI and Docker schema 2), at most 4 MiB. */
final class ManifestPull {
  private final RegistrySession session;

  ManifestPull(RegistrySession session) {
    this.session = session;
  }

  /**
   * @param absentIsEmpty empty (not an error) when every endpoint answers 404
   */
  Optional<FetchedManifest> fetch(String repository, String reference, boolean absentIsEmpty) {
    boolean byDigest = reference.startsWith("sha256:");
    String what = session.name(repository, byDigest ? "@" : ":", reference);
    String scope = byDigest ? "pull" : "resolve";
    return session.call(
        scope,
        what,
        new RegistrySession.Request(
            "GET",
            "/" + repository + "/manifests/" + reference,
            RegistrySession.pull(repository),
            Map.of("Accept", MediaTypes.MANIFEST_ACCEPT),
            null),
        false,
        (ep, c) -> {
          int status = c.getResponseCode();
          if (absentIsEmpty && status == 404 && session.endpoints.isLast(ep, scope)) {
            return Optional.<FetchedManifest>empty();
          }
          if (status != 200) {
            throw session.statusError(ep, c, "GET manifest of " + what);
          }
          byte[] body = RegistrySession.readLimited(c.getInputStream(), 4 << 20, what);
          ManifestDocument doc =
              ManifestDocument.parse(body, c.getContentType(), "the manifest of " + what);
          if (byDigest && !doc.digest().equals(Sha256.parse(reference))) {
            throw new AgentException(
                ErrorCode.CHECKSUM_MISMATCH,
                ep.host() + " served " + doc.digest() + " for manifest " + what);
          }
          return Optional.of(new FetchedManifest(doc, body, ep.host()));
        });
  }
}
