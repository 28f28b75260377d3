package dev.kubeos.oci.http;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.oci.source.FetchOptions;
import dev.kubeos.oci.source.PayloadSource;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.util.Map;
import java.util.OptionalLong;
import javax.net.ssl.SSLException;

/**
 * A payload fetched with HTTP GET over https (or http when allowed) through the {@link
 * HttpTransport}; resumes with Range. The whole download, resumes included, is held to the options'
 * {@link dev.kubeos.oci.source.DownloadLimits}.
 */
public final class HttpPayloadSource implements PayloadSource {
  private final URI uri;
  private final HttpTransport http;
  private final DownloadBudget budget;
  private volatile Boolean acceptsRanges;

  public HttpPayloadSource(URI uri, FetchOptions opts) {
    this.uri = uri;
    this.http = HttpTransport.of(uri, opts);
    this.budget = new DownloadBudget(opts.limits(), redact(uri));
  }

  /** The URI without user info and query (those may carry credentials). */
  public static String redact(URI u) {
    return HttpTransport.redact(u);
  }

  @Override
  public String describe() {
    return redact(uri);
  }

  @Override
  public boolean supportsResume() {
    return Boolean.TRUE.equals(acceptsRanges);
  }

  @Override
  public Opened open(long offset) throws IOException {
    if (offset > 0 && !supportsResume()) {
      throw new AgentException(
          ErrorCode.DOWNLOAD_FAILED,
          "cannot resume "
              + describe()
              + " at byte "
              + offset
              + ": the server has no Range support");
    }
    budget.request();
    Map<String, String> headers = offset > 0 ? Map.of("Range", "bytes=" + offset + "-") : Map.of();
    HttpURLConnection c;
    int status;
    try {
      c = http.exchange(uri, "GET", headers, null, null);
      status = c.getResponseCode();
    } catch (SSLException e) {
      throw HttpTransport.tlsFailure(describe(), e);
    } catch (IOException e) {
      if (offset > 0) {
        throw e; // the caller retries a resume
      }
      String why = e instanceof SocketTimeoutException ? "timed out: " : "failed: ";
      throw new AgentException(ErrorCode.DOWNLOAD_FAILED, "GET " + describe() + " " + why + e, e);
    }
    try {
      if (offset == 0 && acceptsRanges == null) {
        acceptsRanges = "bytes".equalsIgnoreCase(trim(c.getHeaderField("Accept-Ranges")));
      }
      OptionalLong total;
      if (offset == 0) {
        if (status != 200) {
          throw statusError(status, c.getResponseMessage(), "");
        }
        long len = c.getContentLengthLong();
        total = len >= 0 ? OptionalLong.of(len) : OptionalLong.empty();
      } else {
        if (status != 206) {
          throw statusError(
              status,
              c.getResponseMessage(),
              " to 'Range: bytes=" + offset + "-' (expected 206 Partial Content)");
        }
        String cr = trim(c.getHeaderField("Content-Range"));
        ContentRange range = ContentRange.parse(cr).filter(r -> r.first() == offset).orElse(null);
        if (range == null) {
          throw new AgentException(
              ErrorCode.DOWNLOAD_FAILED,
              "GET "
                  + describe()
                  + " with 'Range: bytes="
                  + offset
                  + "-' answered Content-Range '"
                  + cr
                  + "', expected 'bytes "
                  + offset
                  + "-...'");
        }
        total = range.total();
      }
      InputStream body = HttpTransport.body(c, budget, -1);
      return new Opened(body, total);
    } catch (RuntimeException | IOException e) {
      c.disconnect();
      throw e;
    }
  }

  private static String trim(String s) {
    return s == null ? "" : s.trim();
  }

  private AgentException statusError(int status, String reason, String context) {
    String hint =
        status == 404 || status == 410
            ? " (check the payload URL and version)"
            : status >= 500 ? " (server-side error; retry later)" : "";
    return new AgentException(
        ErrorCode.DOWNLOAD_FAILED,
        "GET "
            + describe()
            + " answered "
            + status
            + (reason == null ? "" : " " + reason)
            + context
            + hint);
  }
}
