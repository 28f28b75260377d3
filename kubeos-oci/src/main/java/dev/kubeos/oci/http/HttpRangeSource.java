package dev.kubeos.oci.http;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.oci.source.FetchOptions;
import dev.kubeos.oci.source.RangeSource;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLException;

/**
 * Byte ranges of an https (or, when allowed, http) resource with {@code Range: bytes=A-B}, through
 * the {@link HttpTransport} (connections are kept alive between requests when a range was read to
 * its end); all requests of one source share one {@link DownloadBudget}.
 */
public final class HttpRangeSource implements RangeSource {
  private final URI uri;
  private final HttpTransport http;
  private final DownloadBudget budget;
  private volatile boolean multiRange = true;

  public HttpRangeSource(URI uri, FetchOptions opts) {
    this.uri = uri;
    this.http = HttpTransport.of(uri, opts);
    this.budget = new DownloadBudget(opts.limits(), HttpTransport.redact(uri));
  }

  @Override
  public String describe() {
    return HttpPayloadSource.redact(uri);
  }

  /** Asks for the first byte: a 206 answer proves Range support and names the total size. */
  @Override
  public long size() throws IOException {
    HttpURLConnection c = connect("bytes=0-0");
    try {
      int status = c.getResponseCode();
      if (status != 206) {
        throw new AgentException(
            ErrorCode.DOWNLOAD_FAILED,
            "GET "
                + describe()
                + " with 'Range: bytes=0-0' answered "
                + status
                + " instead of 206 Partial Content: the server does not serve byte ranges, which"
                + " delta staging needs (stage the full image with --format raw instead)");
      }
      ContentRange cr =
          ContentRange.parse(c.getHeaderField("Content-Range"))
              .filter(r -> r.total().isPresent())
              .orElse(null);
      if (cr == null) {
        throw new AgentException(
            ErrorCode.DOWNLOAD_FAILED,
            "GET "
                + describe()
                + " answered Content-Range '"
                + trim(c.getHeaderField("Content-Range"))
                + "' without the total size");
      }
      try (InputStream in = HttpTransport.body(c, null, -1)) {
        in.readAllBytes();
      }
      return cr.total().getAsLong();
    } catch (RuntimeException | IOException e) {
      c.disconnect();
      throw e;
    }
  }

  @Override
  public InputStream read(long offset, long length) throws IOException {
    String range = "bytes=" + offset + "-" + (offset + length - 1);
    HttpURLConnection c = connect(range);
    try {
      int status = c.getResponseCode();
      if (status != 206) {
        throw new AgentException(
            ErrorCode.DOWNLOAD_FAILED,
            "GET "
                + describe()
                + " with 'Range: "
                + range
                + "' answered "
                + status
                + (status == 404 ? " (the image is gone from the server?)" : "")
                + ", expected 206 Partial Content");
      }
      String cr = trim(c.getHeaderField("Content-Range"));
      if (!ContentRange.covers(cr, offset, offset + length - 1)) {
        throw new AgentException(
            ErrorCode.DOWNLOAD_FAILED,
            "GET "
                + describe()
                + " with 'Range: "
                + range
                + "' answered Content-Range '"
                + cr
                + "'");
      }
      return HttpTransport.body(c, budget, length);
    } catch (RuntimeException | IOException e) {
      c.disconnect();
      throw e;
    }
  }

  /**
   * All spans in one request where the server answers {@code multipart/byteranges}. A server that
   * ignores a multi-range header (200, as S3 does) or refuses it (416) is asked span by span from
   * then on.
   */
  @Override
  public Spans readAll(List<Span> spans) throws IOException {
    if (spans.size() == 1 || !multiRange) {
      return RangeSource.super.readAll(spans);
    }
    String range = MultiRangeResponse.header(spans);
    HttpURLConnection c = connect(range);
    try {
      int status = c.getResponseCode();
      if (status == 206) {
        return MultiRangeResponse.of(c, budget, spans);
      }
      c.disconnect();
      if (status == 200 || status == 416) {
        multiRange = false;
        return RangeSource.super.readAll(spans);
      }
      throw new AgentException(
          ErrorCode.DOWNLOAD_FAILED,
          "GET "
              + describe()
              + " with "
              + spans.size()
              + " ranges answered "
              + status
              + (status == 404 ? " (the image is gone from the server?)" : "")
              + ", expected 206 Partial Content");
    } catch (RuntimeException | IOException e) {
      c.disconnect();
      throw e;
    }
  }

  /** Sends a GET with {@code range}; its status has been read. */
  private HttpURLConnection connect(String range) throws IOException {
    budget.request();
    try {
      return http.exchange(uri, "GET", Map.of("Range", range), null, null);
    } catch (SSLException e) {
      throw HttpTransport.tlsFailure(describe(), e);
    }
  }

  private static String trim(String s) {
    return s == null ? "" : s.trim();
  }
}
