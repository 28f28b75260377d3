package dev.kubeos.rpc;

import dev.kubeos.api.agent.ErrorCode;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

/**
 * Decides whether {@link JsonRpcServer} serves a freshly accepted connection: the peer's
 * credentials (SO_PEERCRED, via {@link PeerCheck}), then the per-peer and overall connection
 * limits. An admitted connection runs on the executor and counts against its peer until served; a
 * refused one is told why in one JSON-RPC error (POLICY_DENIED or BUSY) and closed.
 */
final class ConnectionAdmission {
  private static final System.Logger LOG = System.getLogger(JsonRpcServer.class.getName());

  private final Path socketPath;
  private final PeerCheck peers;
  private final JsonRpcServer.Limits limits;
  private final RpcDispatcher dispatcher;
  private final Executor pool;
  private final Consumer<SocketChannel> serve;
  private final Runnable finished;
  private final Map<UserPrincipal, AtomicInteger> perPeer = new ConcurrentHashMap<>();

  /**
   * @param pool runs {@code serve}; rejecting a task means the overall limit is reached
   * @param serve serves one admitted connection to its end (and closes it)
   * @param finished called once for every connection {@link #admit} was given, when it is refused
   *     or served to its end
   */
  ConnectionAdmission(
      Path socketPath,
      PeerCheck peers,
      JsonRpcServer.Limits limits,
      RpcDispatcher dispatcher,
      Executor pool,
      Consumer<SocketChannel> serve,
      Runnable finished) {
    this.socketPath = socketPath;
    this.peers = peers;
    this.limits = limits;
    this.dispatcher = dispatcher;
    this.pool = pool;
    this.serve = serve;
    this.finished = finished;
  }

  /** Checks the peer and the limits, then hands the connection to a thread of its own. */
  void admit(SocketChannel connection) {
    UnixDomainPrincipal peer;
    try {
      peer = connection.getOption(ExtendedSocketOptions.SO_PEERCRED);
    } catch (IOException | RuntimeException e) {
      refuse(
          connection, ErrorCode.POLICY_DENIED, "the agent could not read the peer's credentials");
      return;
    }
    String denied = peers.check(peer);
    if (denied != null) {
      LOG.log(Level.WARNING, "refused a connection on " + socketPath + ": " + denied);
      refuse(connection, ErrorCode.POLICY_DENIED, denied);
      return;
    }
    AtomicInteger count = perPeer.computeIfAbsent(peer.user(), u -> new AtomicInteger());
    if (count.incrementAndGet() > limits.maxConnectionsPerPeer()) {
      count.decrementAndGet();
      LOG.log(
          Level.WARNING, "too many connections from " + peer.user().getName() + "; refusing one");
      refuse(
          connection,
          ErrorCode.BUSY,
          "too many connections from user "
              + peer.user().getName()
              + " (at most "
              + limits.maxConnectionsPerPeer()
              + " at once); close some and retry");
      return;
    }
    try {
      pool.execute(
          () -> {
            try {
              serve.accept(connection);
            } finally {
              count.decrementAndGet();
              finished.run();
            }
          });
    } catch (RejectedExecutionException e) {
      count.decrementAndGet();
      LOG.log(Level.WARNING, "too many connections on " + socketPath + "; refusing one");
      refuse(
          connection,
          ErrorCode.BUSY,
          "the agent is serving too many connections (at most "
              + limits.maxConnections()
              + " at once); retry shortly");
    }
  }

  /** Tells the peer why in one JSON-RPC error (best effort, never blocking) and closes. */
  private void refuse(SocketChannel connection, ErrorCode code, String message) {
    try (connection) {
      connection.configureBlocking(false);
      connection.write(
          ByteBuffer.wrap(
              JsonRpcServer.frame(
                  dispatcher.mapper(),
                  dispatcher.errorResponse(null, RpcError.of(code, message)))));
      connection.shutdownOutput();
      // drop what the peer already sent, so that closing does not reset the answer away
      ByteBuffer sink = ByteBuffer.allocate(4096);
      for (int i = 0; i < 16 && connection.read(sink) > 0; i++) {
        sink.clear();
      }
    } catch (IOException e) {
      LOG.log(Level.DEBUG, "could not tell a refused connection why: " + e);
    } finally {
      finished.run();
    }
  }
}
