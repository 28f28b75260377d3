package dev.kubeos.oci;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.oci.http.ContentRange;
import dev.kubeos.oci.http.DownloadBudget;
import dev.kubeos.oci.http.HttpTransport;
import dev.kubeos.oci.http.MultiRangeResponse;
import dev.kubeos.oci.model.RegistryEndpoint;
import dev.kubeos.oci.source.RangeSource;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.util.List;
import java.util.Map;

/** GETs of byte ranges of a blob: one range, or several as {@code multipart/byteranges}. */
final class RangePull {
  private final RegistrySession session;

  RangePull(RegistrySession session) {
    this.session = session;
  }

  /** See {@link RegistryClient#range}; the body is counted by {@code budget} (null: not). */
  java.io.InputStream range(
      String repository, Sha256 digest, long offset, long length, DownloadBudget budget) {
    String range = "bytes=" + offset + "-" + (offset + length - 1);
    return get(
        repository,
        digest,
        range,
        budget,
        (ep, c, what) -> {
          int status = c.getResponseCode();
          if (status != 206) {
            throw session.statusError(
                ep,
                c,
                "GET "
                    + what
                    + " "
                    + range
                    + (status == 200 ? " (the registry ignored the Range header)" : ""));
          }
          String cr = c.getHeaderField("Content-Range");
          if (!ContentRange.covers(cr, offset, offset + length - 1)) {
            throw new AgentException(
                ErrorCode.DOWNLOAD_FAILED,
                "GET " + what + " " + range + " answered Content-Range '" + cr + "'");
          }
          // a fully read body hands the connection back to the JDK's keep-alive cache: a delta
          // makes dozens of range requests to the same registry
          return HttpTransport.body(c, budget, length);
        });
  }

  /** See {@link RegistryClient#ranges}. */
  RangeSource.Spans ranges(
      String repository, Sha256 digest, List<RangeSource.Span> spans, DownloadBudget budget) {
    return get(
        repository,
        digest,
        MultiRangeResponse.header(spans),
        budget,
        (ep, c, what) -> {
          int status = c.getResponseCode();
          if (status == 206) {
            return MultiRangeResponse.of(c, budget, spans);
          }
          if (status == 200 || status == 416) {
            c.disconnect();
            return null;
          }
          throw session.statusError(ep, c, "GET " + what + " (" + spans.size() + " ranges)");
        });
  }

  private <T> T get(
      String repository,
      Sha256 digest,
      String range,
      DownloadBudget budget,
      RangeAnswer<T> answer) {
    String what = session.name(repository, "@", digest);
    if (budget != null) {
      budget.request();
    }
    return session.call(
        "pull",
        what,
        BlobPull.get(repository, digest, Map.of("Range", range)),
        true,
        (ep, c) -> answer.read(ep, c, what));
  }

  /** Reads the answer to a blob GET with a Range header. */
  private interface RangeAnswer<T> {
    T read(RegistryEndpoint ep, HttpURLConnection c, String what) throws IOException;
  }
}
