package dev.kubeos.agent.payload;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.oci.http.HttpRangeSource;
import dev.kubeos.oci.source.FetchOptions;
import dev.kubeos.oci.source.RangeSource;
import java.net.URI;
import java.nio.file.Path;
import java.util.Locale;

/** Opens a {@link RangeSource} for an image URL ({@code https}, {@code http}, {@code file}). */
public final class RangeSources {
  private RangeSources() {}

  /**
   * A range source for {@code uri}; the same scheme rules as {@link PayloadSources#open}.
   *
   * @throws AgentException INVALID_REQUEST for unsupported schemes or refused http
   */
  public static RangeSource open(URI uri, FetchOptions opts) {
    // validates scheme, http-without-insecure and file URL shape with the payload rules
    PayloadSources.open(uri, opts);
    String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
    if (scheme.equals("file")) {
      return new FileRangeSource(Path.of(uri));
    }
    if (scheme.equals("http") || scheme.equals("https")) {
      return new HttpRangeSource(uri, opts);
    }
    throw new AgentException(ErrorCode.INVALID_REQUEST, "unsupported image URL " + uri);
  }
}
