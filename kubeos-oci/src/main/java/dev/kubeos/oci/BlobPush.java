package dev.kubeos.oci;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.oci.http.HttpTransport.RequestBody;
import dev.kubeos.oci.model.Descriptor;
import java.net.HttpURLConnection;
import java.net.URI;
import java.util.Map;

/** A monolithic blob upload (POST, then PUT with the digest), skipped when the blob is there. */
final class BlobPush {
  private final RegistrySession session;
  private final BlobCheck check;

  BlobPush(RegistrySession session, BlobCheck check) {
    this.session = session;
    this.check = check;
  }

  void push(String repository, Descriptor d, RequestBody body) {
    if (check.exists(repository, d.digest())) {
      return;
    }
    String what = session.name(repository, "@", d.digest());
    session.endpoints.run(
        "push",
        what,
        ep -> {
          HttpURLConnection post =
              session.send(
                  ep,
                  "POST",
                  "/" + repository + "/blobs/uploads/",
                  RegistrySession.push(repository),
                  Map.of(),
                  RequestBodies.EMPTY);
          String location;
          try {
            if (post.getResponseCode() != 202) {
              throw session.statusError(ep, post, "POST blob upload to " + repository);
            }
            location = post.getHeaderField("Location");
          } finally {
            post.disconnect();
          }
          if (location == null) {
            throw new AgentException(
                ErrorCode.DOWNLOAD_FAILED, ep.host() + " gave no Location for the blob upload");
          }
          URI upload = ep.api().resolve(location);
          String sep = upload.getRawQuery() == null ? "?" : "&";
          URI put = URI.create(upload + sep + "digest=" + TokenAuth.enc(d.digest().toString()));
          HttpURLConnection c =
              session.sendTo(
                  ep,
                  put,
                  "PUT",
                  RegistrySession.push(repository),
                  Map.of("Content-Type", "application/octet-stream"),
                  body);
          try {
            if (c.getResponseCode() != 201) {
              throw session.statusError(ep, c, "PUT blob " + d.digest());
            }
          } finally {
            c.disconnect();
          }
          return d;
        });
  }
}
