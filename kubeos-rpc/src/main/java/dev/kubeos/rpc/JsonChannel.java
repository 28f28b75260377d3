package dev.kubeos.rpc;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.async.ByteArrayFeeder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.util.TokenBuffer;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.time.Duration;

/**
 * A stream of JSON values over a socket. A value ends where its JSON ends (found with Jackson's
 * non-blocking parser), so a peer may send a bare object without newline and keep the connection
 * open, or send several values back to back. All waits are bounded by a timeout.
 */
final class JsonChannel implements Closeable {

  /** Why no value could be read. */
  enum Failure {
    PARSE,
    OVERSIZE,
    DUPLICATE_KEY,
    TIMEOUT,
    TRUNCATED
  }

  /** Reading failed for {@link #failure()}; {@link #partial()} says if a value had begun. */
  static final class FramingException extends IOException {
    private final Failure failure;
    private final boolean partial;

    FramingException(Failure failure, boolean partial, String message, Throwable cause) {
      super(message, cause);
      this.failure = failure;
      this.partial = partial;
    }

    Failure failure() {
      return failure;
    }

    boolean partial() {
      return partial;
    }
  }

  private final SocketChannel channel;
  private final Selector selector;
  private final SelectionKey key;
  private final ObjectMapper mapper;
  private final long maxBytes;
  private final JsonParser parser;
  private final ByteArrayFeeder feeder;
  private final ByteBuffer in = ByteBuffer.allocate(64 * 1024);
  private TokenBuffer current;
  private int depth;
  private long fed;
  private long valueStart;
  private boolean eof;

  /** Wraps a connected channel (switched to non-blocking mode); values over maxBytes fail. */
  JsonChannel(SocketChannel channel, ObjectMapper mapper, long maxBytes) throws IOException {
    this.channel = channel;
    this.mapper = mapper;
    this.maxBytes = maxBytes;
    channel.configureBlocking(false);
    this.selector = Selector.open();
    this.key = channel.register(selector, SelectionKey.OP_READ);
    this.parser = mapper.getFactory().createNonBlockingByteArrayParser();
    this.feeder = (ByteArrayFeeder) parser.getNonBlockingInputFeeder();
  }

  /** True when part of a value has arrived but not its end. */
  boolean partial() {
    return current != null;
  }

  /**
   * The next complete JSON value, or null when the peer closed the connection between values.
   *
   * @param timeout longest wait for the whole value, counted from this call
   */
  JsonNode read(Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      JsonToken token;
      try {
        token = parser.nextToken();
        while (token != null && token != JsonToken.NOT_AVAILABLE) {
          if (current == null) {
            current = new TokenBuffer(parser);
          }
          current.copyCurrentEvent(parser);
          if (token.isStructStart()) {
            depth++;
          } else if (token.isStructEnd()) {
            depth--;
          }
          if (depth == 0) {
            long end = parser.currentLocation().getByteOffset();
            checkSize(end - valueStart);
            valueStart = end;
            TokenBuffer done = current;
            current = null;
            try (JsonParser replay = done.asParser(mapper)) {
              return mapper.readTree(replay);
            }
          }
          token = parser.nextToken();
        }
      } catch (JsonProcessingException e) {
        String original = String.valueOf(e.getOriginalMessage());
        if (original.startsWith("Duplicate field")) {
          // STRICT_DUPLICATE_DETECTION: {"method":"status","method":"upgrade"} runs nothing
          throw new FramingException(
              Failure.DUPLICATE_KEY,
              true,
              "duplicate key in the request ("
                  + original.replaceAll("^Duplicate field ", "")
                  + "): each member may appear once",
              e);
        }
        String reason =
            String.valueOf(e.getOriginalMessage())
                .replaceAll("\\s*\\(for \\w+ starting at \\[.*", "");
        throw new FramingException(
            Failure.PARSE,
            true,
            "not valid JSON at byte "
                + (parser.currentLocation().getByteOffset() - valueStart)
                + " of the request: "
                + reason,
            e);
      }
      if (token == null) {
        if (current != null) {
          throw new FramingException(
              Failure.TRUNCATED, true, "connection closed in the middle of a JSON value", null);
        }
        return null;
      }
      checkSize(fed - valueStart);
      fill(deadline, timeout);
    }
  }

  private void checkSize(long size) throws FramingException {
    if (size > maxBytes) {
      throw new FramingException(
          Failure.OVERSIZE,
          true,
          "request larger than " + maxBytes + " bytes: the agent accepts at most that much",
          null);
    }
  }

  private void fill(long deadline, Duration timeout) throws IOException {
    if (eof) {
      feeder.endOfInput();
      return;
    }
    in.clear();
    int n = channel.read(in);
    if (n == 0) {
      key.interestOps(SelectionKey.OP_READ);
      selector.selectedKeys().clear();
      long left = (deadline - System.nanoTime()) / 1_000_000;
      if (left <= 0 || selector.select(left) == 0) {
        if (Thread.currentThread().isInterrupted() || !channel.isOpen()) {
          throw new IOException("connection closed while waiting for data");
        }
        if (System.nanoTime() - deadline >= 0) {
          throw new FramingException(
              Failure.TIMEOUT,
              partial(),
              "no complete JSON value within " + timeout.toMillis() + " ms",
              null);
        }
      }
      n = channel.read(in);
    }
    if (n < 0) {
      eof = true;
      feeder.endOfInput();
    } else if (n > 0) {
      feeder.feedInput(in.array(), 0, n);
      fed += n;
    }
  }

  /** Writes all of {@code bytes}, waiting at most {@code timeout} whenever the peer is slow. */
  void write(byte[] bytes, Duration timeout) throws IOException {
    ByteBuffer out = ByteBuffer.wrap(bytes);
    while (out.hasRemaining()) {
      if (channel.write(out) == 0) {
        key.interestOps(SelectionKey.OP_WRITE);
        selector.selectedKeys().clear();
        if (selector.select(Math.max(1, timeout.toMillis())) == 0) {
          throw new FramingException(
              Failure.TIMEOUT, false, "peer did not read for " + timeout.toSeconds() + " s", null);
        }
      }
    }
  }

  /** Wakes a thread waiting in {@link #read} or {@link #write}; it then sees a closed channel. */
  @Override
  public void close() throws IOException {
    try {
      channel.close();
    } finally {
      selector.wakeup();
      selector.close();
      parser.close();
    }
  }
}
