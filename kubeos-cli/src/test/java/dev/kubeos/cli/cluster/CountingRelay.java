package dev.kubeos.cli.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP relay on 127.0.0.1 to another 127.0.0.1 port that counts the bytes the target sends back:
 * one per guest in front of the registry, so each node's fetched bytes (HTTP headers included) are
 * known without trusting the node's own account.
 */
final class CountingRelay implements AutoCloseable {
  private final ServerSocket server;
  private final int target;
  private final AtomicLong toClient = new AtomicLong();
  private final AtomicLong connections = new AtomicLong();

  CountingRelay(String name, int targetPort) throws IOException {
    this.target = targetPort;
    this.server = new ServerSocket();
    server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    Thread t = new Thread(this::accept, "relay-" + name);
    t.setDaemon(true);
    t.start();
  }

  int port() {
    return server.getLocalPort();
  }

  /** Bytes the target sent to the clients so far. */
  long bytesToClient() {
    return toClient.get();
  }

  long connections() {
    return connections.get();
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        connections.incrementAndGet();
        Socket upstream = new Socket(InetAddress.getLoopbackAddress(), target);
        pump(client, upstream, null);
        pump(upstream, client, toClient);
      } catch (IOException e) {
        if (!server.isClosed()) {
          System.err.println("relay: " + e);
        }
      }
    }
  }

  private static void pump(Socket from, Socket to, AtomicLong counter) {
    Thread t =
        new Thread(
            () -> {
              byte[] buf = new byte[64 * 1024];
              try (InputStream in = from.getInputStream();
                  OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buf)) > 0) {
                  out.write(buf, 0, n);
                  if (counter != null) {
                    counter.addAndGet(n);
                  }
                }
              } catch (IOException closed) {
                // either side went away: close both below
              } finally {
                close(from);
                close(to);
              }
            },
            "relay-pump");
    t.setDaemon(true);
    t.start();
  }

  private static void close(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // already closed
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
