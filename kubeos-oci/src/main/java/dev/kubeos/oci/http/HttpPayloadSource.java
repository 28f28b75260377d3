package dev.kubeos.oci.http;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.oci.source.FetchOptions;
import dev.kubeos.oci.source.PayloadSource;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocketFactory;

/**
 * A payload fetched with HTTP GET over https (or http when allowed); resumes with Range.
 *
 * <p>Uses {@link HttpURLConnection} rather than {@code java.net.http.HttpClient}: its blocking
 * socket reads land in the caller's buffer directly and fetch a 1 GiB loopback payload about 3x
 * faster than HttpClient's {@code ofInputStream} (0.85 s versus 2.8-3.2 s on the 2-core reference
 * machine), which would otherwise bound the whole staging pipeline. It also has a real read timeout
 * for the body.
 */
public final class HttpPayloadSource implements PayloadSource {
  private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");

  private final URI uri;
  private final FetchOptions opts;
  private final SSLSocketFactory tls;
  private volatile Boolean acceptsRanges;

  public HttpPayloadSource(URI uri, FetchOptions opts) {
    this.uri = uri;
    this.opts = opts;
    this.tls =
        "https".equalsIgnoreCase(uri.getScheme())
            ? TlsContexts.build(opts).getSocketFactory()
            : null;
  }

  /** The URI without user info and query (those may carry credentials). */
  public static String redact(URI u) {
    String s = u.getScheme() + "://" + u.getHost() + (u.getPort() >= 0 ? ":" + u.getPort() : "");
    return s
        + (u.getRawPath() == null ? "" : u.getRawPath())
        + (u.getQuery() != null ? "?..." : "");
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
    HttpURLConnection c = (HttpURLConnection) uri.toURL().openConnection();
    if (c instanceof HttpsURLConnection https) {
      https.setSSLSocketFactory(tls);
    }
    c.setConnectTimeout(Math.toIntExact(opts.connectTimeout().toMillis()));
    c.setReadTimeout(Math.toIntExact(opts.readTimeout().toMillis()));
    c.setInstanceFollowRedirects(true); // same scheme only: never https -> http
    c.setUseCaches(false);
    c.setRequestProperty("Accept-Encoding", "identity");
    if (offset > 0) {
      c.setRequestProperty("Range", "bytes=" + offset + "-");
    }
    int status;
    try {
      status = c.getResponseCode();
    } catch (SSLException e) {
      c.disconnect();
      throw new AgentException(
          ErrorCode.DOWNLOAD_FAILED,
          "TLS handshake with "
              + describe()
              + " failed: "
              + e.getMessage()
              + " (check --ca-cert / client certificate and key)",
          e);
    } catch (IOException e) {
      c.disconnect();
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
        Matcher m = CONTENT_RANGE.matcher(cr);
        if (!m.matches() || Long.parseLong(m.group(1)) != offset) {
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
        total =
            m.group(3).equals("*")
                ? OptionalLong.empty()
                : OptionalLong.of(Long.parseLong(m.group(3)));
      }
      InputStream body =
          new FilterInputStream(c.getInputStream()) {
            @Override
            public void close() {
              c.disconnect(); // never drain the rest of an abandoned body
            }
          };
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
