package dev.kubeos.oci;

import dev.kubeos.formats.digest.Sha256;
import java.util.Map;

/** HEAD on a blob: whether the registry (or a mirror) has it. */
final class BlobCheck {
  private final RegistrySession session;

  BlobCheck(RegistrySession session) {
    this.session = session;
  }

  boolean exists(String repository, Sha256 digest) {
    String what = session.name(repository, "@", digest);
    return session.call(
        "pull",
        what,
        new RegistrySession.Request(
            "HEAD",
            "/" + repository + "/blobs/" + digest,
            RegistrySession.pull(repository),
            Map.of(),
            null),
        false,
        (ep, c) -> {
          int status = c.getResponseCode();
          if (status == 404) {
            return false;
          }
          if (status != 200) {
            throw session.statusError(ep, c, "HEAD blob " + what);
          }
          return true;
        });
  }
}
