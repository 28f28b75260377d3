package dev.kubeos.oci;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.oci.http.ContentRange;
import dev.kubeos.oci.http.DownloadBudget;
import dev.kubeos.oci.http.HttpTransport;
import dev.kubeos.oci.model.Descriptor;
import dev.kubeos.oci.model.RegistryEndpoint;
import dev.kubeos.oci.source.PayloadSource;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.OptionalLong;

/** GET of a whole blob: small ones read at once, large ones as a resumable payload source. */
final class BlobPull {
  private final RegistrySession session;

  BlobPull(RegistrySession session) {
    this.session = session;
  }

  /** At most {@code limit} bytes; null when every endpoint answers 404. */
  byte[] small(String repository, Sha256 digest, int limit) {
    String what = session.name(repository, "@", digest);
    return session.call(
        "pull",
        what,
        get(repository, digest, Map.of()),
        false,
        (ep, c) -> {
          int status = c.getResponseCode();
          if (status == 404 && session.endpoints.isLast(ep, "pull")) {
            return null;
          }
          if (status != 200) {
            throw session.statusError(ep, c, "GET blob " + what);
          }
          return RegistrySession.readLimited(c.getInputStream(), limit, "blob " + what);
        });
  }

  /** A GET of a blob, with {@code headers} (a Range). */
  static RegistrySession.Request get(
      String repository, Sha256 digest, Map<String, String> headers) {
    return new RegistrySession.Request(
        "GET",
        "/" + repository + "/blobs/" + digest,
        RegistrySession.pull(repository),
        headers,
        null);
  }

  PayloadSource source(String repository, Descriptor blob) {
    return new BlobSource(repository, blob);
  }

  /**
   * A blob download held to the fetch options' limits; the first open picks the first endpoint that
   * serves it (mirrors first), resumes ask the same endpoint with {@code Range}.
   */
  private final class BlobSource implements PayloadSource {
    private final String repository;
    private final Descriptor blob;
    private final String what;
    private final DownloadBudget budget;
    private RegistryEndpoint chosen;

    BlobSource(String repository, Descriptor blob) {
      this.repository = repository;
      this.blob = blob;
      this.what = session.name(repository, "@", blob.digest());
      this.budget = new DownloadBudget(session.fetch.limits(), "blob " + what);
    }

    @Override
    public String describe() {
      return "blob " + what + (chosen != null && chosen.mirror() ? " via " + chosen.host() : "");
    }

    @Override
    public boolean supportsResume() {
      return true;
    }

    @Override
    public Opened open(long offset) throws IOException {
      budget.request();
      if (offset == 0 || chosen == null) {
        return session.endpoints.run(
            "pull",
            what,
            ep -> {
              Opened o = get(ep, offset);
              chosen = ep;
              return o;
            });
      }
      return get(chosen, offset); // an IOException here is retried by the caller
    }

    private Opened get(RegistryEndpoint ep, long offset) throws IOException {
      return session.call(
          ep,
          BlobPull.get(
              repository,
              blob.digest(),
              offset > 0 ? Map.of("Range", "bytes=" + offset + "-") : Map.of()),
          true,
          (e, c) -> {
            int status = c.getResponseCode();
            if (offset == 0 && status != 200 || offset > 0 && status != 206) {
              throw session.statusError(
                  e, c, "GET " + describe() + (offset > 0 ? " from byte " + offset : ""));
            }
            if (offset > 0) {
              String cr = c.getHeaderField("Content-Range");
              if (!ContentRange.startsAt(cr, offset)) {
                throw new AgentException(
                    ErrorCode.DOWNLOAD_FAILED,
                    "GET "
                        + what
                        + " from byte "
                        + offset
                        + " answered Content-Range '"
                        + cr
                        + "'");
              }
            }
            InputStream body = HttpTransport.body(c, budget, -1);
            return new Opened(body, OptionalLong.of(blob.size()));
          });
    }
  }
}
