package dev.kubeos.oci;

import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.oci.model.ManifestDocument;
import java.util.Map;

/** PUT of a manifest under a tag. */
final class ManifestPush {
  private final RegistrySession session;

  ManifestPush(RegistrySession session) {
    this.session = session;
  }

  Sha256 push(String repository, String tag, byte[] manifest, String mediaType) {
    Sha256 digest = ManifestDocument.sha256(manifest);
    String what = session.name(repository, ":", tag);
    return session.call(
        "push",
        what,
        new RegistrySession.Request(
            "PUT",
            "/" + repository + "/manifests/" + tag,
            RegistrySession.push(repository),
            Map.of("Content-Type", mediaType),
            RequestBodies.of(manifest)),
        false,
        (ep, c) -> {
          if (c.getResponseCode() != 201) {
            throw session.statusError(ep, c, "PUT manifest " + what);
          }
          return digest;
        });
  }
}
