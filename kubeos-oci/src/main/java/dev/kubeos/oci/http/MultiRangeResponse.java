package dev.kubeos.oci.http;

import dev.kubeos.oci.source.RangeSource.Span;
import dev.kubeos.oci.source.RangeSource.Spans;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The 206 answer to a GET with several byte ranges ({@link #header}), read span by span: either
 * {@code multipart/byteranges} (Go's {@code http.ServeContent} as in docker-registry, nginx,
 * Apache) or one {@code Content-Range} covering them all (a server may coalesce). Each part is
 * located by its own {@code Content-Range}, so parts that merge or skip requested spans are
 * handled: a span no part covers is reported as missing and the caller fetches it alone. Nothing
 * here trusts the bytes: the delta stager hashes every chunk it reads.
 */
public final class MultiRangeResponse implements Spans {
  private static final Pattern BOUNDARY =
      Pattern.compile("(?i)multipart/byteranges\\s*;.*?boundary=\"?([^\";]+)\"?.*");
  private static final int MAX_LINE = 8 << 10;
  private static final int MAX_LINES_BETWEEN_PARTS = 64;

  private final HttpURLConnection connection;
  private final InputStream in;
  private final List<Span> spans;
  private final String boundary; // null: one part, described by the response's Content-Range
  private String pendingRange; // the single part's Content-Range until it is taken
  private int nextSpan;
  private long partEnd = -1; // exclusive; -1: no current part
  private long pos;
  private boolean ended;
  private boolean broken;
  private PartStream open;

  private MultiRangeResponse(
      HttpURLConnection connection,
      InputStream body,
      List<Span> spans,
      String boundary,
      String contentRange) {
    this.connection = connection;
    this.in = new BufferedInputStream(body, 64 << 10);
    this.spans = spans;
    this.boundary = boundary;
    this.pendingRange = contentRange;
  }

  /** {@code bytes=A-B,C-D,…} for {@code spans}. */
  public static String header(List<Span> spans) {
    StringBuilder b = new StringBuilder("bytes=");
    for (Span s : spans) {
      if (b.length() > 6) {
        b.append(',');
      }
      b.append(s.offset()).append('-').append(s.end() - 1);
    }
    return b.toString();
  }

  /**
   * Reads {@code c}, whose status the caller found to be 206, as the answer for {@code spans}.
   *
   * @throws IOException when the answer names neither a multipart boundary nor a Content-Range
   */
  public static MultiRangeResponse of(HttpURLConnection c, List<Span> spans) throws IOException {
    return of(c, null, spans);
  }

  /** As {@link #of(HttpURLConnection, List)}, the body counted by {@code budget} (null: not). */
  public static MultiRangeResponse of(HttpURLConnection c, DownloadBudget budget, List<Span> spans)
      throws IOException {
    String type = c.getContentType();
    Matcher m = type == null ? null : BOUNDARY.matcher(type.trim());
    if (m != null && m.matches()) {
      return new MultiRangeResponse(c, counted(c, budget), spans, m.group(1), null);
    }
    String cr = c.getHeaderField("Content-Range");
    if (ContentRange.parse(cr).isEmpty()) {
      throw new IOException(
          "a multi-range request was answered 206 with neither multipart/byteranges nor a"
              + " Content-Range (Content-Type '"
              + type
              + "')");
    }
    return new MultiRangeResponse(c, counted(c, budget), spans, null, cr.trim());
  }

  private static InputStream counted(HttpURLConnection c, DownloadBudget budget)
      throws IOException {
    return budget == null ? c.getInputStream() : budget.guard(c.getInputStream());
  }

  @Override
  public InputStream next() throws IOException {
    Span s = spans.get(nextSpan++);
    if (open != null) {
      open.close();
    }
    if (broken) {
      return null;
    }
    try {
      while (true) {
        if (partEnd < 0 && !nextPart()) {
          return null;
        }
        if (pos > s.offset()) {
          return null; // the current part starts after this span: the server left it out
        }
        if (partEnd <= s.offset()) {
          skip(partEnd - pos);
          partEnd = -1;
          continue;
        }
        if (s.end() > partEnd) {
          return null; // only partly in this part; the span is fetched alone
        }
        skip(s.offset() - pos);
        open = new PartStream(s.length());
        return open;
      }
    } catch (IOException e) {
      broken = true; // a broken connection or a malformed answer: the rest is fetched span by span
      return null;
    }
  }

  /** Moves to the next part; false at the end of the answer. */
  private boolean nextPart() throws IOException {
    if (ended) {
      return false;
    }
    String range;
    if (boundary == null) {
      range = pendingRange;
      pendingRange = null;
      if (range == null) {
        ended = true;
        return false;
      }
    } else {
      range = readPartHeaders();
      if (range == null) {
        ended = true;
        return false;
      }
    }
    ContentRange part =
        ContentRange.parse(range)
            .orElseThrow(() -> new IOException("part with Content-Range '" + range + "'"));
    pos = part.first();
    partEnd = part.end();
    return true;
  }

  /** Reads up to the next delimiter and the part's headers; null after the closing delimiter. */
  private String readPartHeaders() throws IOException {
    String delimiter = "--" + boundary;
    for (int lines = 0; ; lines++) {
      if (lines > MAX_LINES_BETWEEN_PARTS) {
        throw new IOException("no multipart delimiter where one was expected");
      }
      String line = readLine();
      if (line.equals(delimiter + "--")) {
        return null;
      }
      if (line.equals(delimiter)) {
        break;
      }
    }
    String range = null;
    for (int lines = 0; ; lines++) {
      String line = readLine();
      if (line.isEmpty()) {
        break;
      }
      if (lines > MAX_LINES_BETWEEN_PARTS) {
        throw new IOException("too many part headers");
      }
      int colon = line.indexOf(':');
      if (colon > 0
          && line.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals("content-range")) {
        range = line.substring(colon + 1).trim();
      }
    }
    if (range == null) {
      throw new IOException("a multipart/byteranges part without Content-Range");
    }
    return range;
  }

  private String readLine() throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    for (int b = in.read(); b != '\n'; b = in.read()) {
      if (b < 0) {
        throw new IOException("the answer ended inside the multipart framing");
      }
      if (line.size() > MAX_LINE) {
        throw new IOException("a multipart line longer than " + MAX_LINE + " bytes");
      }
      line.write(b);
    }
    String s = line.toString(StandardCharsets.ISO_8859_1);
    return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
  }

  private void skip(long n) throws IOException {
    in.skipNBytes(n);
    pos += n;
  }

  /**
   * Hands a fully read answer back for reuse (for multipart: after reading its closing delimiter, a
   * few bytes); otherwise drops the connection.
   */
  @Override
  public void close() throws IOException {
    if (open != null) {
      open.close();
    }
    boolean complete = false;
    if (!broken) {
      try {
        if (partEnd >= 0 && partEnd - pos <= 64 << 10) {
          skip(partEnd - pos);
          partEnd = -1;
        }
        complete = partEnd < 0 && !nextPart() && in.read() < 0;
      } catch (IOException e) {
        complete = false;
      }
    }
    if (complete) {
      in.close();
    } else {
      connection.disconnect();
    }
  }

  /** One span's bytes out of the current part. */
  private final class PartStream extends InputStream {
    private long left;
    private boolean closed;

    PartStream(long length) {
      this.left = length;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (closed || left <= 0) {
        return -1;
      }
      int n;
      try {
        n = in.read(b, off, (int) Math.min(len, left));
      } catch (IOException e) {
        broken = true;
        throw e;
      }
      if (n < 0) {
        broken = true; // the connection ended inside the span
        return -1;
      }
      left -= n;
      pos += n;
      return n;
    }

    @Override
    public void close() {
      if (!closed) {
        closed = true;
        open = null;
        if (left > 0) {
          broken = true; // abandoned mid-span: the framing is lost, the rest goes span by span
        }
      }
    }
  }
}
