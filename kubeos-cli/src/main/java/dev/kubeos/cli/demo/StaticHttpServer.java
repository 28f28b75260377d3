package dev.kubeos.cli.demo;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Serves the files of one directory on 127.0.0.1 with {@code Range} support, so the demo stages
 * from a real HTTP server (including resume) without anything else installed.
 */
public final class StaticHttpServer implements AutoCloseable {
  private static final Pattern RANGE = Pattern.compile("bytes=(\\d+)-");

  private final HttpServer server;
  private final Path root;

  public StaticHttpServer(Path root) throws IOException {
    this.root = root.toAbsolutePath().normalize();
    this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    server.createContext("/", this::handle);
    server.start();
  }

  public String baseUrl() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/";
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      Path file = root.resolve(ex.getRequestURI().getPath().substring(1)).normalize();
      if (!file.startsWith(root) || !Files.isRegularFile(file)) {
        ex.sendResponseHeaders(404, -1);
        return;
      }
      long size = Files.size(file);
      long start = 0;
      boolean head = "HEAD".equals(ex.getRequestMethod());
      String range = ex.getRequestHeaders().getFirst("Range");
      Matcher m = range == null ? null : RANGE.matcher(range);
      ex.getResponseHeaders().set("Accept-Ranges", "bytes");
      ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
      if (m != null && m.matches()) {
        start = Long.parseLong(m.group(1));
        if (start >= size) {
          ex.getResponseHeaders().set("Content-Range", "bytes */" + size);
          ex.sendResponseHeaders(416, -1);
          return;
        }
        ex.getResponseHeaders()
            .set("Content-Range", "bytes " + start + "-" + (size - 1) + "/" + size);
        ex.sendResponseHeaders(206, head ? -1 : size - start);
      } else {
        ex.sendResponseHeaders(200, head ? -1 : size);
      }
      if (head) {
        return;
      }
      try (InputStream in = Files.newInputStream(file);
          OutputStream out = ex.getResponseBody()) {
        in.skipNBytes(start);
        in.transferTo(out);
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
