package dev.kubeos.oci.http;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.oci.source.FetchOptions;
import dev.kubeos.oci.source.RangeSource;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocketFactory;

/**
 * Byte ranges of an https (or, when allowed, http) resource with {@code Range: bytes=A-B}; same
 * TLS/mTLS and timeouts as {@link HttpPayloadSource}. Connections are kept alive between requests
 * when a range was read to its end.
 */
public final class HttpRangeSource implements RangeSource {
  private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");

  private final URI uri;
  private final FetchOptions opts;
  private final SSLSocketFactory tls;
  private volatile boolean multiRange = true;

  public HttpRangeSource(URI uri, FetchOptions opts) {
    this.uri = uri;
    this.opts = opts;
    this.tls =
        "https".equalsIgnoreCase(uri.getScheme())
            ? TlsContexts.build(opts).getSocketFactory()
            : null;
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
      int status = status(c, "bytes=0-0");
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
      Matcher m = CONTENT_RANGE.matcher(trim(c.getHeaderField("Content-Range")));
      if (!m.matches() || m.group(3).equals("*")) {
        throw new AgentException(
            ErrorCode.DOWNLOAD_FAILED,
            "GET "
                + describe()
                + " answered Content-Range '"
                + trim(c.getHeaderField("Content-Range"))
                + "' without the total size");
      }
      try (InputStream in = c.getInputStream()) {
        in.readAllBytes();
      }
      return Long.parseLong(m.group(3));
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
      int status = status(c, range);
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
      Matcher m = CONTENT_RANGE.matcher(cr);
      if (!m.matches()
          || Long.parseLong(m.group(1)) != offset
          || Long.parseLong(m.group(2)) != offset + length - 1) {
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
      InputStream body = c.getInputStream();
      return new FilterInputStream(body) {
        long left = length;

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
          if (left <= 0) {
            return -1;
          }
          int n = super.read(b, off, (int) Math.min(len, left));
          if (n > 0) {
            left -= n;
          }
          return n;
        }

        @Override
        public void close() throws IOException {
          if (left > 0) {
            c.disconnect(); // never drain an abandoned body; the connection is not reused
          } else {
            super.close(); // fully read: the connection goes back to the keep-alive cache
          }
        }
      };
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
      int status = status(c, range);
      if (status == 206) {
        return MultiRangeResponse.of(c, spans);
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

  private HttpURLConnection connect(String range) throws IOException {
    HttpURLConnection c = (HttpURLConnection) uri.toURL().openConnection();
    if (c instanceof HttpsURLConnection https) {
      https.setSSLSocketFactory(tls);
    }
    c.setConnectTimeout(Math.toIntExact(opts.connectTimeout().toMillis()));
    c.setReadTimeout(Math.toIntExact(opts.readTimeout().toMillis()));
    c.setInstanceFollowRedirects(true);
    c.setUseCaches(false);
    c.setRequestProperty("Accept-Encoding", "identity");
    c.setRequestProperty("Range", range);
    return c;
  }

  private int status(HttpURLConnection c, String range) throws IOException {
    try {
      return c.getResponseCode();
    } catch (SSLException e) {
      throw new AgentException(
          ErrorCode.DOWNLOAD_FAILED,
          "TLS handshake with "
              + describe()
              + " failed: "
              + e.getMessage()
              + " (check --ca-cert / client certificate and key)",
          e);
    }
  }

  private static String trim(String s) {
    return s == null ? "" : s.trim();
  }
}
