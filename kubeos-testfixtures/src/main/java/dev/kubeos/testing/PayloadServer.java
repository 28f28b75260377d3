package dev.kubeos.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;

/**
 * A loopback (127.0.0.1, ephemeral port) HTTP(S) server for payload tests: serves registered byte
 * arrays and files with {@code Range: bytes=N-[M]} support (several ranges answered as {@code
 * multipart/byteranges}, as nginx and Go do), and injects faults per path (an error status, a
 * connection cut after N body bytes, no Range support, one range per request only). Every request
 * is logged.
 */
public final class PayloadServer implements AutoCloseable {
  private static final Pattern RANGE = Pattern.compile("(\\d+)-(\\d*)");

  /** A logged request: method, path and the Range header (null when absent). */
  public record Request(String method, String path, String range) {}

  private record Content(byte[] bytes, Path file) {
    long length() throws IOException {
      if (bytes != null) {
        return bytes.length;
      }
      try (FileChannel ch = FileChannel.open(file)) {
        return ch.size();
      }
    }

    InputStream open(long offset) throws IOException {
      FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
      ch.position(offset);
      return Channels.newInputStream(ch);
    }
  }

  private static final class Faults {
    volatile int status;
    volatile long cutAfter = -1;
    volatile boolean cutAlways;
    volatile boolean noRanges;
    volatile boolean singleRangeOnly;
    final java.util.concurrent.atomic.AtomicInteger cutNext =
        new java.util.concurrent.atomic.AtomicInteger();
    volatile long cutNextAfter;
  }

  private final HttpServer server;
  private final ExecutorService executor = Executors.newCachedThreadPool();
  private final Map<String, Content> content = new ConcurrentHashMap<>();
  private final Map<String, Faults> faults = new ConcurrentHashMap<>();
  private final List<Request> log = new CopyOnWriteArrayList<>();
  private final Map<String, java.util.concurrent.atomic.AtomicLong> sent =
      new ConcurrentHashMap<>();
  private final boolean https;
  private volatile long rate;
  private long linkFreeAt;

  private PayloadServer(HttpServer server, boolean https) {
    this.server = server;
    this.https = https;
    server.createContext("/", this::handle);
    server.setExecutor(executor);
    server.start();
  }

  /** A plain-http server on 127.0.0.1. */
  public static PayloadServer http() throws IOException {
    return new PayloadServer(HttpServer.create(loopback(), 0), false);
  }

  /**
   * An https server on 127.0.0.1 using {@code pki}'s server certificate; with {@code
   * requireClientCert} the TLS handshake fails without a client certificate issued by the CA.
   */
  public static PayloadServer https(TestPki pki, boolean requireClientCert) throws IOException {
    HttpsServer s = HttpsServer.create(loopback(), 0);
    SSLContext ctx = pki.serverContext();
    s.setHttpsConfigurator(
        new HttpsConfigurator(ctx) {
          @Override
          public void configure(HttpsParameters params) {
            SSLParameters p = ctx.getDefaultSSLParameters();
            p.setNeedClientAuth(requireClientCert);
            params.setSSLParameters(p);
          }
        });
    return new PayloadServer(s, true);
  }

  private static InetSocketAddress loopback() {
    return new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
  }

  /** The URL of {@code path} (which starts with '/') on this server. */
  public URI url(String path) {
    return URI.create(
        (https ? "https" : "http") + "://127.0.0.1:" + server.getAddress().getPort() + path);
  }

  public PayloadServer serve(String path, byte[] bytes) {
    content.put(path, new Content(bytes.clone(), null));
    return this;
  }

  public PayloadServer serve(String path, Path file) {
    content.put(path, new Content(null, file));
    return this;
  }

  /** Answers every request for {@code path} with {@code status} and a short text body. */
  public PayloadServer failWith(String path, int status) {
    faults(path).status = status;
    return this;
  }

  /**
   * Sends the full headers but cuts the connection after {@code bytes} body bytes: on the first
   * request for {@code path} only, or on every request when {@code always}.
   */
  public PayloadServer cutAfter(String path, long bytes, boolean always) {
    Faults f = faults(path);
    f.cutAfter = bytes;
    f.cutAlways = always;
    return this;
  }

  /**
   * Cuts the connection after {@code bytes} body bytes on the next {@code count} responses for
   * {@code path} whose body is longer than {@code bytes} (shorter ones are not counted).
   */
  public PayloadServer cutNext(String path, long bytes, int count) {
    Faults f = faults(path);
    f.cutNextAfter = bytes;
    f.cutNext.set(count);
    return this;
  }

  /**
   * Limits all response bodies together to {@code bytesPerSecond} (a shared link; 0 = unlimited),
   * for benchmarks that model a network slower than loopback.
   */
  public PayloadServer limitRate(long bytesPerSecond) {
    rate = bytesPerSecond;
    return this;
  }

  private void pace(int bytes) throws IOException {
    long r = rate;
    if (r <= 0) {
      return;
    }
    long wait;
    synchronized (this) {
      long now = System.nanoTime();
      linkFreeAt = Math.max(linkFreeAt, now) + bytes * 1_000_000_000L / r;
      wait = linkFreeAt - now;
    }
    try {
      Thread.sleep(wait / 1_000_000L, (int) (wait % 1_000_000L));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while pacing");
    }
  }

  /** Body bytes sent so far for {@code path} (all requests, including cut ones). */
  public long bytesSent(String path) {
    java.util.concurrent.atomic.AtomicLong n = sent.get(path);
    return n == null ? 0 : n.get();
  }

  /**
   * Answers a request for several ranges of {@code path} with the whole content (200), as S3 does;
   * one range is still served.
   */
  public PayloadServer singleRangeOnly(String path) {
    faults(path).singleRangeOnly = true;
    return this;
  }

  /** Serves {@code path} without {@code Accept-Ranges} and ignores Range headers (always 200). */
  public PayloadServer ignoreRanges(String path) {
    faults(path).noRanges = true;
    return this;
  }

  private Faults faults(String path) {
    return faults.computeIfAbsent(path, p -> new Faults());
  }

  /** All requests so far, in arrival order. */
  public List<Request> requests() {
    return List.copyOf(log);
  }

  /** The requests for {@code path}. */
  public List<Request> requests(String path) {
    return log.stream().filter(r -> r.path().equals(path)).collect(Collectors.toList());
  }

  private void handle(HttpExchange ex) throws IOException {
    String path = ex.getRequestURI().getPath();
    String range = ex.getRequestHeaders().getFirst("Range");
    log.add(new Request(ex.getRequestMethod(), path, range));
    Faults f = faults.getOrDefault(path, new Faults());
    Content c = content.get(path);
    boolean cutting = false;
    try {
      if (f.status != 0 || c == null) {
        int status = f.status != 0 ? f.status : 404;
        byte[] body = ("status " + status + " for " + path + "\n").getBytes();
        ex.sendResponseHeaders(status, body.length);
        ex.getResponseBody().write(body);
        return;
      }
      long total = c.length();
      List<long[]> ranges = f.noRanges ? null : ranges(range, total);
      if (!f.noRanges) {
        ex.getResponseHeaders().add("Accept-Ranges", "bytes");
      }
      if (ranges != null && ranges.isEmpty()) {
        ex.getResponseHeaders().add("Content-Range", "bytes */" + total);
        ex.sendResponseHeaders(416, -1);
        return;
      }
      if (ranges != null && ranges.size() > 1 && f.singleRangeOnly) {
        ranges = null; // as S3: several ranges are ignored, the whole object is sent
      }
      // the body: literal framing bytes and pieces of the content
      List<Object> pieces = new ArrayList<>();
      int status = 206;
      if (ranges == null) {
        status = 200;
        pieces.add(new long[] {0, total});
        ex.getResponseHeaders().add("Content-Type", "application/octet-stream");
      } else if (ranges.size() == 1) {
        long[] r = ranges.get(0);
        pieces.add(new long[] {r[0], r[1] - r[0]});
        ex.getResponseHeaders().add("Content-Type", "application/octet-stream");
        ex.getResponseHeaders()
            .add("Content-Range", "bytes " + r[0] + "-" + (r[1] - 1) + "/" + total);
      } else {
        String boundary = "kubeos-test-" + Long.toHexString(System.nanoTime());
        ex.getResponseHeaders().add("Content-Type", "multipart/byteranges; boundary=" + boundary);
        for (long[] r : ranges) {
          pieces.add(
              ("\r\n--"
                      + boundary
                      + "\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes "
                      + r[0]
                      + "-"
                      + (r[1] - 1)
                      + "/"
                      + total
                      + "\r\n\r\n")
                  .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
          pieces.add(new long[] {r[0], r[1] - r[0]});
        }
        pieces.add(
            ("\r\n--" + boundary + "--\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      }
      long length = 0;
      for (Object p : pieces) {
        length += p instanceof byte[] b ? b.length : ((long[]) p)[1];
      }
      boolean first = requests(path).size() == 1;
      long cut = f.cutAfter >= 0 && (f.cutAlways || first) ? f.cutAfter : -1;
      if (cut < 0
          && length > f.cutNextAfter
          && f.cutNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        cut = f.cutNextAfter;
      }
      ex.sendResponseHeaders(status, length);
      if ("HEAD".equals(ex.getRequestMethod())) {
        return;
      }
      long toSend = cut >= 0 ? Math.min(cut, length) : length;
      sent.computeIfAbsent(path, p -> new java.util.concurrent.atomic.AtomicLong())
          .addAndGet(toSend);
      OutputStream out = ex.getResponseBody();
      long left = toSend;
      for (Object p : pieces) {
        if (left <= 0) {
          break;
        }
        if (p instanceof byte[] b) {
          int n = (int) Math.min(b.length, left);
          out.write(b, 0, n);
          left -= n;
        } else {
          long[] r = (long[]) p;
          long n = Math.min(r[1], left);
          send(c, r[0], n, out);
          left -= n;
        }
      }
      if (toSend < length) {
        out.flush();
        cutting = true;
        // an exception out of the handler (without closing the exchange) makes the server drop
        // the connection at once
        throw new IOException("fault injection: cut " + path + " after " + toSend + " bytes");
      }
    } finally {
      if (!cutting) {
        ex.close();
      }
    }
  }

  /**
   * The ranges of a {@code Range: bytes=A-B,C-[D]} header as [start, end) pairs clipped to {@code
   * total}; null without a (parsable) header; empty when none is satisfiable (416).
   */
  private static List<long[]> ranges(String header, long total) {
    if (header == null || !header.trim().startsWith("bytes=")) {
      return null;
    }
    List<long[]> out = new ArrayList<>();
    for (String part : header.trim().substring(6).split(",")) {
      Matcher m = RANGE.matcher(part.trim());
      if (!m.matches()) {
        return null;
      }
      long start = Long.parseLong(m.group(1));
      long end = m.group(2).isEmpty() ? total - 1 : Math.min(total - 1, Long.parseLong(m.group(2)));
      if (start < total && start <= end) {
        out.add(new long[] {start, end + 1});
      }
    }
    return out;
  }

  private void send(Content c, long start, long n, OutputStream out) throws IOException {
    if (c.bytes() != null) {
      for (long at = 0; at < n; ) {
        int k = (int) Math.min(256 << 10, n - at);
        pace(k);
        out.write(c.bytes(), (int) (start + at), k);
        at += k;
      }
      return;
    }
    try (InputStream in = c.open(start)) {
      byte[] buf = new byte[1 << 20];
      long left = n;
      while (left > 0) {
        int k = in.read(buf, 0, (int) Math.min(rate > 0 ? 256 << 10 : buf.length, left));
        if (k < 0) {
          break;
        }
        pace(k);
        out.write(buf, 0, k);
        left -= k;
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
