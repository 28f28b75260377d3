package dev.kubeos.rpc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * The agent's JSON-RPC 2.0 server on a Unix domain socket (upstream KubeOS framing: one bare JSON
 * object per request, no newline needed; newline-separated and back-to-back requests work too).
 *
 * <p>Limits (see {@link Limits}, documented in docs/agent-api.md): every connection gets its own
 * thread, started on demand, up to {@link Limits#maxConnections()} at once and {@link
 * Limits#maxConnectionsPerPeer()} per peer user, so slow or idle clients cannot hold up {@code
 * status} on another connection; a connection over a limit gets a BUSY error and is closed. The
 * bytes of one request must arrive within {@link Limits#readTimeout()} (a few seconds), which is
 * separate from how long the operation then takes: {@code prepare_upgrade} answers on the same
 * connection after the whole stage. Every peer's credentials (SO_PEERCRED) are checked: uid 0 or
 * the agent's own user, or, only when {@link Limits#group()} is set, a peer whose group is that
 * group; anyone else gets a POLICY_DENIED error and the connection ends. Whether operations may
 * overlap is the business of {@link AgentOperations}; the server passes its typed errors through.
 *
 * <p>Socket activation: a server on an inherited listening channel (systemd's, see {@link
 * #JsonRpcServer(ServerSocketChannel, RpcDispatcher, Limits)}) can end itself once idle ({@link
 * #exitWhenIdle}): when no connection is open and nothing is busy for the idle period, the accept
 * thread stops accepting and only then decides. Whatever connects from then on waits in the
 * listening socket's backlog, which outlives this process, for the next start; a connection already
 * accepted is always served to its end.
 */
public final class JsonRpcServer implements Closeable {
  /**
   * Largest request accepted by default (256 KiB: upstream's largest, a configure with file
   * contents, is a few KiB); bigger ones get an invalid-request error and the connection ends. With
   * {@link #DEFAULT_MAX_CONNECTIONS} this bounds what requests can hold in the heap.
   */
  public static final int MAX_REQUEST_BYTES = 256 << 10;

  public static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(5);
  public static final int DEFAULT_MAX_CONNECTIONS = 16;
  public static final int DEFAULT_MAX_CONNECTIONS_PER_PEER = 8;

  /**
   * The server's limits.
   *
   * @param readTimeout longest wait for the bytes of one request (and for an idle connection's next
   *     request); also bounds each wait for a peer to read an answer
   * @param maxConnections connections served at once, all peers together
   * @param maxConnectionsPerPeer connections served at once for one peer user
   * @param maxRequestBytes largest request (a batch counts as one)
   * @param group a group whose members may connect besides root (null: root only); the socket file
   *     is then 0660 and owned by that group instead of 0600
   */
  public record Limits(
      Duration readTimeout,
      int maxConnections,
      int maxConnectionsPerPeer,
      int maxRequestBytes,
      String group) {
    public Limits {
      Objects.requireNonNull(readTimeout, "readTimeout");
      if (readTimeout.isNegative() || readTimeout.isZero()) {
        throw new IllegalArgumentException("readTimeout must be positive, got " + readTimeout);
      }
      if (maxConnections < 1 || maxConnectionsPerPeer < 1 || maxRequestBytes < 1) {
        throw new IllegalArgumentException(
            "connection and size limits must be at least 1: "
                + maxConnections
                + ", "
                + maxConnectionsPerPeer
                + ", "
                + maxRequestBytes);
      }
      if (group != null && group.isBlank()) {
        group = null;
      }
    }

    /** 5 s per request, 16 connections (8 per peer), 256 KiB per request, root only. */
    public static Limits defaults() {
      return new Limits(
          DEFAULT_READ_TIMEOUT,
          DEFAULT_MAX_CONNECTIONS,
          DEFAULT_MAX_CONNECTIONS_PER_PEER,
          MAX_REQUEST_BYTES,
          null);
    }

    public Limits withReadTimeout(Duration timeout) {
      return new Limits(timeout, maxConnections, maxConnectionsPerPeer, maxRequestBytes, group);
    }

    public Limits withConnections(int overall, int perPeer) {
      return new Limits(readTimeout, overall, perPeer, maxRequestBytes, group);
    }

    public Limits withGroup(String name) {
      return new Limits(readTimeout, maxConnections, maxConnectionsPerPeer, maxRequestBytes, name);
    }
  }

  private static final System.Logger LOG = System.getLogger(JsonRpcServer.class.getName());

  private final Path socketPath;
  private final ServerSocketChannel inherited;
  private final RpcDispatcher dispatcher;
  private final ObjectMapper mapper;
  private final Limits limits;
  private final Set<JsonChannel> open = ConcurrentHashMap.newKeySet();
  private ThreadPoolExecutor pool;
  private SocketFile.Bound bound;
  private ConnectionAdmission admission;
  private Thread acceptor;
  private volatile Selector selector;
  private volatile boolean closed;

  /** Connections accepted and not yet finished (refused, or served to their end). */
  private final AtomicInteger active = new AtomicInteger();

  private volatile long lastActivity = System.nanoTime();
  private Duration idleAfter;
  private BooleanSupplier busy = () -> false;
  private Runnable stoppedAccepting = () -> {};
  private final CountDownLatch ended = new CountDownLatch(1);
  private volatile End end = End.CLOSED;

  /** Idle deadlines reached while a connection was open or work pending (the exit postponed). */
  private final AtomicInteger postponed = new AtomicInteger();

  public JsonRpcServer(Path socketPath, RpcDispatcher dispatcher) {
    this(socketPath, dispatcher, Limits.defaults());
  }

  /** A server that binds {@code socketPath} itself when started. */
  public JsonRpcServer(Path socketPath, RpcDispatcher dispatcher, Limits limits) {
    this.socketPath = Objects.requireNonNull(socketPath, "socketPath");
    this.inherited = null;
    this.dispatcher = Objects.requireNonNull(dispatcher, "dispatcher");
    this.mapper = dispatcher.mapper();
    this.limits = Objects.requireNonNull(limits, "limits");
  }

  /**
   * A server on a listening Unix-domain channel that someone else bound (e.g. systemd, via {@link
   * System#inheritedChannel()}). Its socket file, mode and owner are left as they are, and it is
   * not deleted on {@link #close()}.
   */
  public JsonRpcServer(ServerSocketChannel listening, RpcDispatcher dispatcher, Limits limits)
      throws IOException {
    this.inherited = Objects.requireNonNull(listening, "listening");
    if (!(listening.getLocalAddress() instanceof UnixDomainSocketAddress)) {
      throw new IllegalArgumentException(
          "not a Unix-domain socket: " + listening.getLocalAddress());
    }
    this.socketPath = ((UnixDomainSocketAddress) listening.getLocalAddress()).getPath();
    this.dispatcher = Objects.requireNonNull(dispatcher, "dispatcher");
    this.mapper = dispatcher.mapper();
    this.limits = Objects.requireNonNull(limits, "limits");
  }

  public Path socketPath() {
    return socketPath;
  }

  public Limits limits() {
    return limits;
  }

  /**
   * Lets the server end itself once idle: no connection open and {@code busy} false for {@code
   * after} on end (a connection's end and {@link #start()} restart the count). The accept thread
   * stops accepting first and then checks, so a connection is either accepted and served or left in
   * the listening socket's backlog for whoever starts the next server (systemd). {@link
   * #awaitEnd()} then returns {@link End#IDLE}; the caller closes the server and exits. Only for a
   * server on an inherited channel: a socket this process bound would go with it. Call before
   * {@link #start()}.
   *
   * @param busy true while work that outlives its connection is pending (a scheduled reboot)
   */
  public synchronized JsonRpcServer exitWhenIdle(Duration after, BooleanSupplier busy) {
    Objects.requireNonNull(after, "after");
    if (inherited == null) {
      throw new IllegalStateException(
          "idle exit needs an inherited listening socket: nobody would start this server again");
    }
    if (after.isNegative() || after.isZero()) {
      throw new IllegalArgumentException("idle period must be positive, got " + after);
    }
    this.idleAfter = after;
    this.busy = Objects.requireNonNull(busy, "busy");
    return this;
  }

  /**
   * Runs {@code hook} on the accept thread after it stopped accepting for an idle exit and before
   * it checks that nothing is pending (for tests: to connect in exactly that window).
   */
  synchronized void onStoppedAccepting(Runnable hook) {
    this.stoppedAccepting = Objects.requireNonNull(hook, "hook");
  }

  /** Why a server stopped serving. */
  public enum End {
    /** {@link #close()} was called (SIGTERM). */
    CLOSED,
    /** Idle (see {@link #exitWhenIdle}); connections made since wait in the backlog. */
    IDLE,
    /** The listening socket failed; nothing is accepted any more. */
    FAILED
  }

  /** Waits until the server stopped serving, and says why. */
  public End awaitEnd() throws InterruptedException {
    ended.await();
    return end;
  }

  /** How often the idle period ran out while a connection was open or work pending (for tests). */
  int idleExitsPostponed() {
    return postponed.get();
  }

  /** Connections accepted and not yet refused or served to their end. */
  public int openConnections() {
    return active.get();
  }

  /**
   * Binds the socket (mode 0600, or 0660 owned by {@link Limits#group()}; parent created 0700, or
   * 0710 with the group, when missing) and starts accepting.
   *
   * @throws dev.kubeos.api.agent.AgentException PRECONDITION_FAILED when another agent answers on
   *     the path or the path is not a socket; IO_ERROR when the socket cannot be created;
   *     INVALID_REQUEST when the configured group does not exist
   */
  public synchronized void start() {
    if (bound != null || closed) {
      throw new IllegalStateException("server on " + socketPath + " was already started");
    }
    PeerCheck peers = PeerCheck.create(limits.group());
    bound =
        inherited != null
            ? new SocketFile.Bound(inherited, null)
            : SocketFile.bind(socketPath, peers.group());
    AtomicInteger n = new AtomicInteger();
    // threads start on demand and end after a quiet minute: an idle agent holds none
    pool =
        new ThreadPoolExecutor(
            0,
            limits.maxConnections(),
            60,
            TimeUnit.SECONDS,
            new SynchronousQueue<>(),
            r -> daemon(r, "kubeos-rpc-" + n.incrementAndGet()));
    admission =
        new ConnectionAdmission(
            socketPath, peers, limits, dispatcher, pool, this::serve, this::finished);
    try {
      selector = Selector.open();
      bound.channel().configureBlocking(false);
      bound.channel().register(selector, SelectionKey.OP_ACCEPT);
    } catch (IOException e) {
      closeQuietly(bound.channel());
      throw new AgentException(
          ErrorCode.IO_ERROR, "cannot watch the agent socket " + socketPath + ": " + e, e);
    }
    lastActivity = System.nanoTime();
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
    try {
      while (!closed) {
        selector.select(untilIdle());
        selector.selectedKeys().clear();
        if (closed) {
          return;
        }
        SocketChannel connection;
        try {
          connection = server.accept(); // non-blocking: null when nobody is waiting
        } catch (ClosedChannelException e) {
          return;
        } catch (IOException e) {
          LOG.log(Level.WARNING, "accept on " + socketPath + " failed: " + e);
          pause();
          continue;
        }
        if (connection != null) {
          active.incrementAndGet();
          lastActivity = System.nanoTime();
          admission.admit(connection); // accepted channels are blocking whatever the listener is
        } else if (idleAfter != null && idleLongEnough()) {
          // this thread alone accepts, and it is not accepting now: whoever connects from here
          // on waits in the listening socket's backlog for the next start
          stoppedAccepting.run();
          if (active.get() == 0 && !busy.getAsBoolean()) {
            LOG.log(
                Level.INFO,
                "agent idle for " + idleAfter.toSeconds() + " s: stopping (socket activation)");
            end = End.IDLE;
            return;
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      if (!closed) {
        end = End.FAILED;
        LOG.log(Level.ERROR, "accept loop on " + socketPath + " failed: " + e, e);
      }
    } finally {
      ended.countDown();
    }
  }

  private boolean idleLongEnough() {
    return active.get() == 0
        && System.nanoTime() - lastActivity >= idleAfter.toNanos()
        && !busy.getAsBoolean();
  }

  /** Milliseconds to wait for a connection before the idle check (0: no limit). */
  private long untilIdle() {
    if (idleAfter == null) {
      return 0;
    }
    long left = idleAfter.toNanos() - (System.nanoTime() - lastActivity);
    // an open connection or pending work postpones the check; look again a period later
    if (left <= 0 && (active.get() > 0 || busy.getAsBoolean())) {
      postponed.incrementAndGet();
      left = idleAfter.toNanos();
    }
    return Math.max(1, TimeUnit.NANOSECONDS.toMillis(left) + 1);
  }

  private void finished() {
    lastActivity = System.nanoTime();
    if (active.decrementAndGet() == 0 && idleAfter != null) {
      Selector s = selector;
      if (s != null) {
        s.wakeup(); // count the idle period from now
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

  private void serve(SocketChannel connection) {
    JsonChannel json = null;
    try {
      json = new JsonChannel(connection, mapper, limits.maxRequestBytes());
      open.add(json);
      // close() sets closed before it closes what is in open: this catches a late registration
      while (!closed) {
        JsonNode request;
        try {
          request = json.read(limits.readTimeout());
        } catch (JsonChannel.FramingException e) {
          rejectFrame(json, e);
          return;
        }
        if (request == null) {
          return;
        }
        long started = System.nanoTime();
        JsonNode response = dispatcher.handle(request);
        long nanos = System.nanoTime() - started;
        // answer first: the log line (the first one sets up the logging) is not the caller's wait
        try {
          if (response != null) {
            json.write(frame(mapper, response), limits.readTimeout());
          }
        } finally {
          logRequest(request, response, nanos);
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
      case DUPLICATE_KEY:
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
    json.write(frame(mapper, dispatcher.errorResponse(null, error)), limits.readTimeout());
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
  static byte[] frame(ObjectMapper mapper, JsonNode response) throws IOException {
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

  /**
   * Stops accepting, ends open connections and removes the socket file (if still ours). An
   * inherited listening channel is left open: it belongs to whoever passed it (systemd keeps its
   * own descriptor and the connections waiting in its backlog).
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (bound == null) {
      ended.countDown();
      return;
    }
    selector.wakeup();
    if (inherited == null) {
      closeQuietly(bound.channel());
    }
    pool.shutdown();
    open.forEach(JsonRpcServer::closeQuietly);
    try {
      acceptor.join(2000);
      // an inherited channel stays non-blocking: the flag belongs to the open file that systemd
      // shares (its own sockets are non-blocking), and a next server sets it again anyway
      closeQuietly(selector);
      if (!pool.awaitTermination(2, TimeUnit.SECONDS)) {
        pool.shutdownNow();
      }
    } catch (InterruptedException e) {
      pool.shutdownNow();
      Thread.currentThread().interrupt();
    }
    ended.countDown();
    if (inherited == null) {
      SocketFile.delete(socketPath, bound.fileKey());
    }
    LOG.log(Level.INFO, "agent stopped listening on " + socketPath);
  }
}
