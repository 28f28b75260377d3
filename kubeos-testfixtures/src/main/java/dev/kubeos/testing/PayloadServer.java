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
 * arrays and files with {@code Range: bytes=N-[M]} support, and injects faults per path (an error
 * status, a connection cut after N body bytes, no Range support). Every request is logged.
 */
public final class PayloadServer implements AutoCloseable {
  private static final Pattern RANGE = Pattern.compile("bytes=(\\d+)-(\\d*)");

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
      long start = 0;
      long end = total - 1;
      int status = 200;
      if (!f.noRanges) {
        ex.getResponseHeaders().add("Accept-Ranges", "bytes");
        Matcher m = range == null ? null : RANGE.matcher(range.trim());
        if (m != null && m.matches()) {
          start = Long.parseLong(m.group(1));
          if (!m.group(2).isEmpty()) {
            end = Math.min(end, Long.parseLong(m.group(2)));
          }
          if (start >= total || start > end) {
            ex.getResponseHeaders().add("Content-Range", "bytes */" + total);
            ex.sendResponseHeaders(416, -1);
            return;
          }
          status = 206;
          ex.getResponseHeaders().add("Content-Range", "bytes " + start + "-" + end + "/" + total);
        }
      }
      long length = end - start + 1;
      boolean first = requests(path).size() == 1;
      long cut = f.cutAfter >= 0 && (f.cutAlways || first) ? f.cutAfter : -1;
      if (cut < 0
          && length > f.cutNextAfter
          && f.cutNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        cut = f.cutNextAfter;
      }
      ex.getResponseHeaders().add("Content-Type", "application/octet-stream");
      ex.sendResponseHeaders(status, length);
      if ("HEAD".equals(ex.getRequestMethod())) {
        return;
      }
      long toSend = cut >= 0 ? Math.min(cut, length) : length;
      sent.computeIfAbsent(path, p -> new java.util.concurrent.atomic.AtomicLong())
          .addAndGet(toSend);
      OutputStream out = ex.getResponseBody();
      if (c.bytes() != null) {
        for (long at = 0; at < toSend; ) {
          int n = (int) Math.min(256 << 10, toSend - at);
          pace(n);
          out.write(c.bytes(), (int) (start + at), n);
          at += n;
        }
      } else {
        try (InputStream in = c.open(start)) {
          byte[] buf = new byte[1 << 20];
          long left = toSend;
          while (left > 0) {
            int n = in.read(buf, 0, (int) Math.min(rate > 0 ? 256 << 10 : buf.length, left));
            if (n < 0) {
              break;
            }
            pace(n);
            out.write(buf, 0, n);
            left -= n;
          }
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

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
