package dev.kubeos.oci.source;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.util.Iterator;
import java.util.List;

/**
 * Random access to a remote or local blob by byte ranges (HTTP Range requests, a file, a registry
 * blob). Used by delta staging to fetch only the chunks a node does not have.
 */
public interface RangeSource {

  /** Human-readable location for messages (never contains credentials). */
  String describe();

  /**
   * Total size of the blob in bytes. Also checks that ranges are supported.
   *
   * @throws dev.kubeos.api.agent.AgentException DOWNLOAD_FAILED when the blob cannot be reached or
   *     does not support ranges
   */
  long size() throws IOException;

  /**
   * Opens exactly {@code length} bytes starting at {@code offset}. The stream may end early or fail
   * when a connection breaks; the caller re-opens the rest.
   */
  InputStream read(long offset, long length) throws IOException;

  /**
   * Opens several ranges at once: HTTP sources ask for all of them in one request ({@code Range:
   * bytes=A-B,C-D,…}, answered as {@code multipart/byteranges}) where the server serves that, which
   * turns a delta's thousand small requests into a few dozen. This default opens each span with
   * {@link #read} when its turn comes.
   *
   * @param spans ascending, not overlapping, not empty
   */
  default Spans readAll(List<Span> spans) throws IOException {
    Iterator<Span> it = spans.iterator();
    return () -> {
      Span s = it.next();
      return read(s.offset(), s.length());
    };
  }

  /** A byte range of a blob. */
  record Span(long offset, long length) {
    public Span {
      if (offset < 0 || length <= 0) {
        throw new IllegalArgumentException("bad span at " + offset + " length " + length);
      }
    }

    public long end() {
      return offset + length;
    }
  }

  /** The answer to {@link #readAll}: one stream per span, in order. */
  interface Spans extends Closeable {
    /**
     * The next span's bytes (read them, or close the stream, before asking for the next one).
     * Returns null when this answer does not carry the span (the server left it out or a previous
     * stream was abandoned): the caller opens it with {@link #read}. Like {@link #read}, a stream
     * may end early when the connection breaks.
     */
    InputStream next() throws IOException;

    /** Releases the connection; a fully read answer may be reused. */
    @Override
    default void close() throws IOException {}
  }
}
