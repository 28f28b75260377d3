package dev.kubeos.rpc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The agent's JSON-RPC 2.0 server on a Unix domain socket (upstream KubeOS framing: one bare JSON
 * object per request, no newline needed; newline-separated and back-to-back requests work too).
 * Each connection is served by a thread of a small pool, so a long {@code prepare_upgrade} does not
 * hold up {@code status} on another connection. Whether operations may overlap is the business of
 * {@link AgentOperations}; the server passes its typed errors through.
 */
public final class JsonRpcServer implements Closeable {
  /** Largest request accepted; bigger ones get an invalid-request error and the connection ends. */
  public static final int MAX_REQUEST_BYTES = 1 << 20;

  public static final int DEFAULT_THREADS = 4;
  public static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(30);

  private static final System.Logger LOG = System.getLogger(JsonRpcServer.class.getName());
  private static final int QUEUED_CONNECTIONS = 64;

  private final Path socketPath;
  private final RpcDispatcher dispatcher;
  private final ObjectMapper mapper;
  private final int threads;
  private final Duration readTimeout;
  private final Set<JsonChannel> open = ConcurrentHashMap.newKeySet();
  private ThreadPoolExecutor pool;
  private SocketFile.Bound bound;
  private Thread acceptor;
  private volatile boolean closed;

  public JsonRpcServer(Path socketPath, RpcDispatcher dispatcher) {
    this(socketPath, dispatcher, DEFAULT_THREADS, DEFAULT_READ_TIMEOUT);
  }

  /**
   * @param threads connections served at once (more wait in a queue)
   * @param readTimeout how long one request may take to arrive, and how long an idle connection
   *     stays open
   */
  public JsonRpcServer(
      Path socketPath, RpcDispatcher dispatcher, int threads, Duration readTimeout) {
    this.socketPath = Objects.requireNonNull(socketPath, "socketPath");
    this.dispatcher = Objects.requireNonNull(dispatcher, "dispatcher");
    this.mapper = dispatcher.mapper();
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1, got " + threads);
    }
    this.threads = threads;
    this.readTimeout = Objects.requireNonNull(readTimeout, "readTimeout");
  }

  public Path socketPath() {
    return socketPath;
  }

  /**
   * Binds the socket (mode 0600, parent created 0700 when missing) and starts accepting.
   *
   * @throws dev.kubeos.api.agent.AgentException PRECONDITION_FAILED when another agent answers on
   *     the path or the path is not a socket; IO_ERROR when the socket cannot be created
   */
  public synchronized void start() {
    if (bound != null || closed) {
      throw new IllegalStateException("server on " + socketPath + " was already started");
    }
    bound = SocketFile.bind(socketPath);
    AtomicInteger n = new AtomicInteger();
    pool =
        new ThreadPoolExecutor(
            threads,
            threads,
            0,
            TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(QUEUED_CONNECTIONS),
            r -> daemon(r, "kubeos-rpc-" + n.incrementAndGet()));
    acceptor = daemon(this::acceptLoop, "kubeos-rpc-accept");
    acceptor.start();
    LOG.log(Level.INFO, "agent listening on " + socketPath);
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  private void acceptLoop() {
    ServerSocketChannel server = bound.channel();
    while (!closed) {
      SocketChannel connection;
      try {
        connection = server.accept();
      } catch (ClosedChannelException e) {
        return;
      } catch (IOException e) {
        LOG.log(Level.WARNING, "accept on " + socketPath + " failed: " + e);
        pause();
        continue;
      }
      try {
        pool.execute(() -> serve(connection));
      } catch (RejectedExecutionException e) {
        refuse(connection);
      }
    }
  }

  private static void pause() {
    try {
      Thread.sleep(100);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void refuse(SocketChannel connection) {
    LOG.log(Level.WARNING, "too many connections on " + socketPath + "; refusing one");
    try (connection) {
      connection.configureBlocking(false);
      connection.write(
          ByteBuffer.wrap(
              frame(
                  dispatcher.errorResponse(
                      null,
                      RpcError.of(
                          dev.kubeos.api.agent.ErrorCode.BUSY,
                          "the agent is serving too many connections; retry shortly")))));
    } catch (IOException e) {
      LOG.log(Level.DEBUG, "could not tell a refused connection why: " + e);
    }
  }

  private void serve(SocketChannel connection) {
    JsonChannel json = null;
    try {
      json = new JsonChannel(connection, mapper, MAX_REQUEST_BYTES);
      open.add(json);
      // close() sets closed before it closes what is in open: this catches a late registration
      while (!closed) {
        JsonNode request;
        try {
          request = json.read(readTimeout);
        } catch (JsonChannel.FramingException e) {
          rejectFrame(json, e);
          return;
        }
        if (request == null) {
          return;
        }
        long started = System.nanoTime();
        JsonNode response = dispatcher.handle(request);
        logRequest(request, response, System.nanoTime() - started);
        if (response != null) {
          json.write(frame(response), readTimeout);
        }
      }
    } catch (IOException | RuntimeException e) {
      LOG.log(closed ? Level.DEBUG : Level.WARNING, "connection on " + socketPath + " ended: " + e);
    } finally {
      if (json != null) {
        open.remove(json);
        closeQuietly(json);
      } else {
        closeQuietly(connection);
      }
    }
  }

  private void rejectFrame(JsonChannel json, JsonChannel.FramingException e) throws IOException {
    RpcError error;
    switch (e.failure()) {
      case PARSE:
        error = RpcError.parseError(e.getMessage());
        break;
      case OVERSIZE:
        error = RpcError.invalidRequest(e.getMessage());
        break;
      case TIMEOUT:
        if (!e.partial()) {
          LOG.log(Level.DEBUG, "closing idle connection on " + socketPath);
          return;
        }
        error = RpcError.invalidRequest("incomplete request: " + e.getMessage());
        break;
      default:
        LOG.log(Level.INFO, "rpc connection dropped: " + e.getMessage());
        return;
    }
    LOG.log(Level.INFO, "rpc rejected: " + error.message() + " (code " + error.code() + ")");
    json.write(frame(dispatcher.errorResponse(null, error)), readTimeout);
  }

  private void logRequest(JsonNode request, JsonNode response, long nanos) {
    String method =
        request.isArray()
            ? "batch[" + request.size() + "]"
            : request.path("method").asText("<none>");
    String id = request.isArray() ? "-" : String.valueOf(request.get("id"));
    String outcome;
    if (response == null) {
      outcome = "notification";
    } else if (response.has("error")) {
      RpcError error = RpcError.fromJson(response.get("error"));
      outcome = "error " + error.errorCode() + " (" + error.code() + "): " + error.message();
    } else {
      outcome = "ok";
    }
    LOG.log(
        Level.INFO,
        "rpc method="
            + method
            + " id="
            + id
            + " duration="
            + TimeUnit.NANOSECONDS.toMillis(nanos)
            + "ms outcome="
            + outcome);
  }

  /** The response bytes followed by a newline (harmless for upstream, handy for line readers). */
  private byte[] frame(JsonNode response) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    mapper.writeValue(out, response);
    out.write('\n');
    return out.toByteArray();
  }

  private static void closeQuietly(Closeable c) {
    try {
      c.close();
    } catch (IOException | RuntimeException e) {
      LOG.log(Level.DEBUG, "close failed: " + e);
    }
  }

  /** Stops accepting, ends open connections and removes the socket file (if still ours). */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (bound == null) {
      return;
    }
    closeQuietly(bound.channel());
    pool.shutdown();
    open.forEach(JsonRpcServer::closeQuietly);
    try {
      acceptor.join(2000);
      if (!pool.awaitTermination(2, TimeUnit.SECONDS)) {
        pool.shutdownNow();
      }
    } catch (InterruptedException e) {
      pool.shutdownNow();
      Thread.currentThread().interrupt();
    }
    SocketFile.delete(socketPath, bound.fileKey());
    LOG.log(Level.INFO, "agent stopped listening on " + socketPath);
  }
}
