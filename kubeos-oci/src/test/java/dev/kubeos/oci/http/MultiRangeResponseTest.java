package dev.kubeos.oci.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.kubeos.oci.source.RangeSource.Span;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Answers to multi-range requests as servers really send them, crafted byte by byte. */
class MultiRangeResponseTest {
  private static final byte[] BLOB = new byte[10_000];

  static {
    for (int i = 0; i < BLOB.length; i++) {
      BLOB[i] = (byte) (i * 31 + 7);
    }
  }

  private static final List<Span> SPANS =
      List.of(new Span(100, 50), new Span(1_000, 10), new Span(5_000, 200));

  private HttpServer server;
  private volatile String contentType;
  private volatile String contentRange;
  private volatile byte[] body;
  private volatile int cutAt = -1;

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/",
        ex -> {
          ex.getResponseHeaders().add("Content-Type", contentType);
          if (contentRange != null) {
            ex.getResponseHeaders().add("Content-Range", contentRange);
          }
          ex.sendResponseHeaders(206, body.length);
          if (cutAt >= 0) {
            ex.getResponseBody().write(body, 0, cutAt);
            ex.getResponseBody().flush();
            throw new IOException("cut"); // drops the connection
          }
          ex.getResponseBody().write(body);
          ex.close();
        });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  @Test
  void headerListsEverySpan() {
    assertThat(MultiRangeResponse.header(SPANS)).isEqualTo("bytes=100-149,1000-1009,5000-5199");
  }

  @Test
  void partsInOrderGiveEachSpanExactly() throws IOException {
    multipart(List.of(new long[] {100, 150}, new long[] {1_000, 1_010}, new long[] {5_000, 5_200}));
    assertThat(readAll())
        .containsExactly(bytes(100, 150), bytes(1_000, 1_010), bytes(5_000, 5_200));
  }

  @Test
  void aPartCoveringSeveralSpansIsSplitAndALeftOutSpanIsMissing() throws IOException {
    // the server merged the first two spans into one part and left the third out
    multipart(List.of(new long[] {100, 1_010}));
    assertThat(readAll()).containsExactly(bytes(100, 150), bytes(1_000, 1_010), null);
  }

  @Test
  void aSpanThePartsSkipIsMissingAndTheNextOneIsStillRead() throws IOException {
    multipart(List.of(new long[] {100, 150}, new long[] {5_000, 5_200}));
    assertThat(readAll()).containsExactly(bytes(100, 150), null, bytes(5_000, 5_200));
  }

  @Test
  void oneContentRangeOverAllSpansIsReadWithSkips() throws IOException {
    contentType = "application/octet-stream";
    contentRange = "bytes 100-5199/10000";
    body = bytes(100, 5_200);
    assertThat(readAll())
        .containsExactly(bytes(100, 150), bytes(1_000, 1_010), bytes(5_000, 5_200));
  }

  @Test
  void aConnectionCutInsideASpanEndsItsStreamEarlyAndLeavesTheRestMissing() throws IOException {
    multipart(List.of(new long[] {100, 150}, new long[] {1_000, 1_010}, new long[] {5_000, 5_200}));
    cutAt = body.length - 150; // inside the third part's bytes
    List<byte[]> got = readAll();
    assertThat(got.get(0)).isEqualTo(bytes(100, 150));
    assertThat(got.get(1)).isEqualTo(bytes(1_000, 1_010));
    assertThat(got.get(2)).hasSizeLessThan(200).isEqualTo(bytes(5_000, 5_000 + got.get(2).length));
  }

  @Test
  void anAbandonedSpanLeavesTheRestToSingleRequests() throws IOException {
    multipart(List.of(new long[] {100, 150}, new long[] {1_000, 1_010}, new long[] {5_000, 5_200}));
    try (MultiRangeResponse r = MultiRangeResponse.of(open(), SPANS)) {
      r.next().close(); // not read
      assertThat(r.next()).isNull();
      assertThat(r.next()).isNull();
    }
  }

  private List<byte[]> readAll() throws IOException {
    List<byte[]> out = new ArrayList<>();
    try (MultiRangeResponse r = MultiRangeResponse.of(open(), SPANS)) {
      for (int i = 0; i < SPANS.size(); i++) {
        InputStream in = r.next();
        if (in == null) {
          out.add(null);
          continue;
        }
        try (in) {
          out.add(in.readAllBytes());
        } catch (IOException e) {
          out.add(new byte[0]);
        }
      }
    }
    return out;
  }

  private HttpURLConnection open() throws IOException {
    HttpURLConnection c =
        (HttpURLConnection)
            URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/blob")
                .toURL()
                .openConnection();
    c.setRequestProperty("Range", MultiRangeResponse.header(SPANS));
    assertThat(c.getResponseCode()).isEqualTo(206);
    return c;
  }

  /** A Go-style multipart/byteranges body (no CRLF before the first delimiter). */
  private void multipart(List<long[]> parts) {
    String boundary = "3d6b6a416f9b5";
    contentType = "multipart/byteranges; boundary=" + boundary;
    contentRange = null;
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (int i = 0; i < parts.size(); i++) {
      long[] p = parts.get(i);
      b.writeBytes(
          ((i == 0 ? "" : "\r\n")
                  + "--"
                  + boundary
                  + "\r\nContent-Range: bytes "
                  + p[0]
                  + "-"
                  + (p[1] - 1)
                  + "/10000\r\nContent-Type: application/octet-stream\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      b.writeBytes(bytes((int) p[0], (int) p[1]));
    }
    b.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII));
    body = b.toByteArray();
  }

  private static byte[] bytes(int from, int to) {
    return java.util.Arrays.copyOfRange(BLOB, from, to);
  }
}
