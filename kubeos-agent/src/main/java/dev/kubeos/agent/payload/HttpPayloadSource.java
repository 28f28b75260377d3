package dev.kubeos.agent.payload;

import dev.kubeos.agent.port.PayloadSource;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.util.Map;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLException;

/** A payload fetched with HTTP GET over https (or http when allowed); resumes with Range. */
public final class HttpPayloadSource implements PayloadSource {
  private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");
  private static final Map<Integer, String> REASONS =
      Map.ofEntries(
          Map.entry(400, "Bad Request"),
          Map.entry(401, "Unauthorized"),
          Map.entry(403, "Forbidden"),
          Map.entry(404, "Not Found"),
          Map.entry(408, "Request Timeout"),
          Map.entry(410, "Gone"),
          Map.entry(416, "Range Not Satisfiable"),
          Map.entry(429, "Too Many Requests"),
          Map.entry(500, "Internal Server Error"),
          Map.entry(502, "Bad Gateway"),
          Map.entry(503, "Service Unavailable"),
          Map.entry(504, "Gateway Timeout"));

  private final URI uri;
  private final FetchOptions opts;
  private final HttpClient client;
  private volatile Boolean acceptsRanges;

  HttpPayloadSource(URI uri, FetchOptions opts) {
    this.uri = uri;
    this.opts = opts;
    HttpClient.Builder b =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .followRedirects(HttpClient.Redirect.NORMAL)
            .connectTimeout(opts.connectTimeout());
    if ("https".equalsIgnoreCase(uri.getScheme())) {
      b.sslContext(TlsContexts.build(opts));
    }
    this.client = b.build();
  }

  /** The URI without user info and query (those may carry credentials). */
  static String redact(URI u) {
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
    HttpRequest.Builder rb = HttpRequest.newBuilder(uri).GET().timeout(opts.readTimeout());
    if (offset > 0) {
      rb.header("Range", "bytes=" + offset + "-");
    }
    HttpResponse<InputStream> resp;
    try {
      resp = client.send(rb.build(), HttpResponse.BodyHandlers.ofInputStream());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while requesting " + describe());
    } catch (HttpTimeoutException e) {
      throw new IOException(
          "GET " + describe() + ": no response within " + opts.readTimeout().toSeconds() + " s", e);
    } catch (SSLException e) {
      throw new AgentException(
          ErrorCode.DOWNLOAD_FAILED,
          "TLS handshake with "
              + describe()
              + " failed: "
              + e.getMessage()
              + " (check --ca-cert / client certificate and key)",
          e);
    } catch (IOException e) {
      if (offset > 0) {
        throw e; // let the caller retry a resume
      }
      throw new AgentException(ErrorCode.DOWNLOAD_FAILED, "GET " + describe() + " failed: " + e, e);
    }
    int status = resp.statusCode();
    if (offset == 0 && acceptsRanges == null) {
      acceptsRanges =
          resp.headers().allValues("Accept-Ranges").stream()
              .anyMatch(v -> v.trim().equalsIgnoreCase("bytes"));
    }
    InputStream body = resp.body();
    try {
      OptionalLong total;
      if (offset == 0) {
        if (status != 200) {
          throw statusError(status, "");
        }
        total = resp.headers().firstValueAsLong("Content-Length");
      } else {
        if (status != 206) {
          throw statusError(status, " to 'Range: bytes=" + offset + "-' (expected 206)");
        }
        String cr = resp.headers().firstValue("Content-Range").orElse("");
        Matcher m = CONTENT_RANGE.matcher(cr.trim());
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
      return new Opened(new IdleTimeoutInputStream(body, opts.readTimeout(), describe()), total);
    } catch (RuntimeException e) {
      body.close();
      throw e;
    }
  }

  private AgentException statusError(int status, String context) {
    String reason = REASONS.getOrDefault(status, "");
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
            + (reason.isEmpty() ? "" : " " + reason)
            + context
            + hint);
  }
}
