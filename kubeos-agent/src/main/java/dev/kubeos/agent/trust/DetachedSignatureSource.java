package dev.kubeos.agent.trust;

import dev.kubeos.agent.StageRequest;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.trust.DetachedSignature;
import dev.kubeos.formats.trust.SignedPayload;
import dev.kubeos.oci.http.HttpTransport;
import dev.kubeos.oci.source.FetchOptions;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Detached signatures of http/https/file payloads: the file {@code <payload URL>.sig} (format in
 * {@link DetachedSignature}), fetched with the payload's own TLS options. A missing file (404, 410,
 * no such file) means "not signed"; other failures are errors.
 */
public final class DetachedSignatureSource implements SignatureSource {

  @Override
  public List<SignedPayload> fetch(StageRequest request) throws IOException {
    requireSupported(request.url());
    URI sig = signatureUri(request.url());
    String origin = redact(sig);
    byte[] bytes =
        "file".equalsIgnoreCase(sig.getScheme()) ? readFile(Path.of(sig)) : get(sig, request);
    return bytes == null ? List.of() : DetachedSignature.parse(bytes, origin);
  }

  @Override
  public String describe(StageRequest request) {
    URI url = request.url();
    return url == null || !supported(url)
        ? "(no detached signature for this payload)"
        : redact(signatureUri(url));
  }

  private static boolean supported(URI url) {
    String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
    return scheme.equals("http") || scheme.equals("https") || scheme.equals("file");
  }

  /** Other payload kinds (OCI images) have their own signature source; fail closed here. */
  private static void requireSupported(URI url) {
    if (url == null || !supported(url)) {
      throw new AgentException(
          ErrorCode.UNSUPPORTED,
          "no detached signature source for payload "
              + (url == null ? "without a URL" : "scheme '" + url.getScheme() + "'")
              + "; detached signatures (URL.sig) exist for http, https and file payloads");
    }
  }

  /** {@code <url>.sig}: ".sig" appended to the path, the query kept. */
  static URI signatureUri(URI payload) {
    if ("file".equalsIgnoreCase(payload.getScheme())) {
      Path file = Path.of(payload);
      return file.resolveSibling(file.getFileName() + ".sig").toUri();
    }
    try {
      return new URI(
          payload.getScheme(),
          payload.getRawAuthority() == null ? null : payload.getAuthority(),
          payload.getPath() + ".sig",
          payload.getQuery(),
          null);
    } catch (URISyntaxException e) {
      throw new AgentException(ErrorCode.INVALID_REQUEST, "bad payload URL " + payload, e);
    }
  }

  private static byte[] readFile(Path file) throws IOException {
    if (!Files.exists(file)) {
      return null;
    }
    if (Files.size(file) > DetachedSignature.MAX_BYTES) {
      throw tooLarge(file.toString());
    }
    return Files.readAllBytes(file);
  }

  private static byte[] get(URI sig, StageRequest request) throws IOException {
    FetchOptions opts = request.fetch();
    HttpURLConnection c;
    int status;
    try {
      c = HttpTransport.of(sig, opts).exchange(sig, "GET", Map.of(), null, null);
      status = c.getResponseCode();
    } catch (IOException e) {
      throw new AgentException(
          ErrorCode.DOWNLOAD_FAILED,
          "GET " + redact(sig) + " (the payload's signature) failed: " + e,
          e);
    }
    try {
      if (status == 404 || status == 410) {
        return null;
      }
      if (status != 200) {
        throw new AgentException(
            ErrorCode.DOWNLOAD_FAILED,
            "GET "
                + redact(sig)
                + " (the payload's signature) answered "
                + status
                + (status >= 500 ? " (server-side error; retry later)" : ""));
      }
      try (InputStream in = c.getInputStream()) {
        byte[] bytes = in.readNBytes(DetachedSignature.MAX_BYTES + 1);
        if (bytes.length > DetachedSignature.MAX_BYTES) {
          throw tooLarge(redact(sig));
        }
        return bytes;
      }
    } finally {
      c.disconnect();
    }
  }

  private static AgentException tooLarge(String where) {
    return new AgentException(
        ErrorCode.SIGNATURE_REJECTED,
        where + " is larger than " + DetachedSignature.MAX_BYTES + " bytes: not a signature file");
  }

  /** Scheme, host, port and path only: user info and query may carry credentials. */
  static String redact(URI u) {
    if ("file".equalsIgnoreCase(u.getScheme())) {
      return u.toString();
    }
    return u.getScheme().toLowerCase(Locale.ROOT)
        + "://"
        + u.getHost()
        + (u.getPort() >= 0 ? ":" + u.getPort() : "")
        + (u.getRawPath() == null ? "" : u.getRawPath())
        + (u.getQuery() != null ? "?..." : "");
  }
}
