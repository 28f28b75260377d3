package dev.kubeos.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy on 127.0.0.1 in front of a server, for network faults below HTTP: once armed, it cuts
 * the connection that has carried {@code n} response bytes (both sides closed), or runs an action
 * at that point (e.g. stopping the server behind it).
 */
public final class CuttingProxy implements AutoCloseable {
  private final ServerSocket server;
  private final int targetPort;
  private final ExecutorService pool =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "cutting-proxy");
            t.setDaemon(true);
            return t;
          });
  private final AtomicLong cutAfter = new AtomicLong(-1);
  private final AtomicInteger cuts = new AtomicInteger();
  private final AtomicInteger connections = new AtomicInteger();
  private volatile Runnable atCut;

  private CuttingProxy(int targetPort) throws IOException {
    this.targetPort = targetPort;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    pool.submit(this::accept);
  }

  /** A proxy to {@code 127.0.0.1:targetPort}. */
  public static CuttingProxy to(int targetPort) {
    try {
      return new CuttingProxy(targetPort);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code 127.0.0.1:<port>} of the proxy. */
  public String host() {
    return "127.0.0.1:" + server.getLocalPort();
  }

  /**
   * Arms one cut: the first connection whose response stream passes {@code bytes} bytes is closed
   * there; {@code action} (may be null) runs right before.
   */
  public void cutOnceAfter(long bytes, Runnable action) {
    atCut = action;
    cutAfter.set(bytes);
  }

  /** How many connections were cut. */
  public int cuts() {
    return cuts.get();
  }

  public int connections() {
    return connections.get();
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        connections.incrementAndGet();
        Socket upstream;
        try {
          upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
        } catch (IOException down) {
          closeQuietly(client); // the server behind is gone: the client sees a closed connection
          continue;
        }
        pool.submit(() -> pump(client, upstream, false));
        pool.submit(() -> pump(upstream, client, true));
      } catch (IOException e) {
        if (server.isClosed()) {
          return;
        }
      }
    }
  }

  private void pump(Socket from, Socket to, boolean response) {
    byte[] buf = new byte[16 << 10];
    long sent = 0;
    try (InputStream in = from.getInputStream()) {
      OutputStream out = to.getOutputStream();
      for (int n; (n = in.read(buf)) >= 0; ) {
        long limit = response ? cutAfter.get() : -1;
        if (limit >= 0 && sent + n > limit) {
          if (cutAfter.compareAndSet(limit, -1)) {
            int part = (int) Math.max(0, limit - sent);
            out.write(buf, 0, part);
            out.flush();
            Runnable a = atCut;
            if (a != null) {
              a.run();
            }
            cuts.incrementAndGet();
            from.close();
            to.close();
            return;
          }
        }
        out.write(buf, 0, n);
        sent += n;
      }
      to.shutdownOutput();
    } catch (IOException e) {
      closeQuietly(from);
      closeQuietly(to);
    }
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // already gone
    }
  }

  @Override
  public void close() {
    try {
      server.close();
    } catch (IOException ignored) {
      // closing anyway
    }
    pool.shutdownNow();
  }
}
