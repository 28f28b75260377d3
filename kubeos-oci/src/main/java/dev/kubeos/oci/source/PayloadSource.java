package dev.kubeos.oci.source;

import java.io.IOException;
import java.io.InputStream;
import java.util.OptionalLong;

/** Where a payload's bytes come from (https, http, file). One instance per payload. */
public interface PayloadSource {

  /** Human-readable location for messages (never contains credentials). */
  String describe();

  /**
   * Opens the payload at byte {@code offset} (0 for the start). A source that cannot resume throws
   * when asked for {@code offset > 0} and reports so through {@link #supportsResume()}.
   */
  Opened open(long offset) throws IOException;

  /** Whether {@link #open} with a non-zero offset works (HTTP Range, files). */
  boolean supportsResume();

  /** An open stream and the total payload length when the source knows it. */
  record Opened(InputStream stream, OptionalLong totalLength) {}
}
