package dev.kubeos.agent.payload;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.oci.http.HttpPayloadSource;
import dev.kubeos.oci.source.FetchOptions;
import dev.kubeos.oci.source.PayloadSource;
import java.net.URI;
import java.nio.file.Path;
import java.util.Locale;

/** Opens a {@link PayloadSource} for a payload URI ({@code https}, {@code http}, {@code file}). */
public final class PayloadSources {
  private PayloadSources() {}

  /**
   * A source for {@code uri}. Plain {@code http} only when {@code opts.insecure()}.
   *
   * @throws AgentException INVALID_REQUEST for unsupported schemes or refused http
   */
  public static PayloadSource open(URI uri, FetchOptions opts) {
    if (uri == null || uri.getScheme() == null) {
      throw new AgentException(
          ErrorCode.INVALID_REQUEST,
          "payload URL '"
              + uri
              + "' has no scheme: use https://..., http:// (with --insecure) or"
              + " file:///...");
    }
    String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
    switch (scheme) {
      case "https":
        return new HttpPayloadSource(uri, opts);
      case "http":
        if (!opts.insecure()) {
          throw new AgentException(
              ErrorCode.INVALID_REQUEST,
              "http:// payloads are refused unless flagSafe/--insecure is set; use https (got "
                  + HttpPayloadSource.redact(uri)
                  + ")");
        }
        return new HttpPayloadSource(uri, opts);
      case "file":
        if (uri.getPath() == null
            || (uri.getAuthority() != null && !uri.getAuthority().isEmpty())) {
          throw new AgentException(
              ErrorCode.INVALID_REQUEST,
              "file URL '" + uri + "' must be of the form file:///absolute/path");
        }
        return new FilePayloadSource(Path.of(uri));
      default:
        throw new AgentException(
            ErrorCode.INVALID_REQUEST,
            "payload URL scheme '"
                + scheme
                + "' is not supported: use https://, http:// (with --insecure) or file:///");
    }
  }
}
