package dev.kubeos.cluster.proxy;

import io.fabric8.mockwebserver.http.ByteString;
import io.fabric8.mockwebserver.http.Response;
import io.fabric8.mockwebserver.http.WebSocket;
import io.fabric8.mockwebserver.http.WebSocketListener;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Wraps the CRUD mock server's watch listener so that a closing watch never blocks the server.
 *
 * <p>Why the mock stalled (fabric8 mockwebserver / kubernetes-server-mock 8.0.0): the mock serves
 * every request on one Vert.x event loop. Each watch has its own single-thread executor that sends
 * its events; a send from that (non-Vert.x) thread waits up to 30 s for Vert.x to complete the
 * write, and only the event loop completes it. When a client closes a watch, Vert.x calls the
 * listener's {@code onClosed} (or {@code onFailure}) <em>on the event loop</em>, and it shuts the
 * watch's executor down and waits for it, up to a minute. If an event for that watch was being sent
 * at that moment, the two wait for each other: the event loop for the executor, the executor for
 * the event loop, until the 30 s write timeout gives up ("VertxMockWebSocket write did not complete
 * within 30s", "vert.x-eventloop-thread-0 has been blocked for 20725 ms"). Every other request
 * waits meanwhile, and the stalls of several closed watches add up. The more watches and the more
 * events in flight when watches close (a killed operator, stopped proxies, informers closed at the
 * end of a test), the likelier a stall: a fleet of 200 proxies with two watches each met one in
 * most runs on a loaded machine.
 *
 * <p>Here the watch is first taken off the dispatcher's list of watches, on the event loop (so no
 * later request routes an event to it: an event scheduled on its shut-down executor would throw
 * inside that request, which then never gets an answer); then {@code onClosed} or {@code onFailure}
 * runs on a thread of its own, so the event loop stays free to complete the pending write (it fails
 * at once on the closed socket) and the listener's executor ends by itself. The list is a private
 * field of the mock's listener ({@code watchEventListenerList}, 8.0.0), read by reflection: a
 * fabric8 upgrade that renames it fails every watch close loudly.
 */
final class WatchCloseOffEventLoop extends WebSocketListener {
  private static final ExecutorService CLOSER =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "mock-watch-close");
            t.setDaemon(true);
            return t;
          });

  private final WebSocketListener delegate;

  private static final java.lang.reflect.Field WATCHES;

  static {
    try {
      WATCHES =
          Class.forName("io.fabric8.kubernetes.client.server.mock.WatchEventsListener")
              .getDeclaredField("watchEventListenerList");
      WATCHES.setAccessible(true);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  WatchCloseOffEventLoop(WebSocketListener delegate) {
    this.delegate = delegate;
  }

  @Override
  public void onBeforeAccept(WebSocket webSocket, Response response) {
    delegate.onBeforeAccept(webSocket, response);
  }

  @Override
  public void onOpen(WebSocket webSocket, Response response) {
    delegate.onOpen(webSocket, response);
  }

  @Override
  public void onMessage(WebSocket webSocket, String text) {
    delegate.onMessage(webSocket, text);
  }

  @Override
  public void onMessage(WebSocket webSocket, ByteString bytes) {
    delegate.onMessage(webSocket, bytes);
  }

  @Override
  public void onMessage(WebSocket webSocket, byte[] bytes) {
    delegate.onMessage(webSocket, bytes);
  }

  @Override
  public void onPing(WebSocket webSocket, byte[] bytes) {
    delegate.onPing(webSocket, bytes);
  }

  @Override
  public void onClosing(WebSocket webSocket, int code, String reason) {
    delegate.onClosing(webSocket, code, reason); // only schedules the close on its executor
  }

  @Override
  public void onClosed(WebSocket webSocket, int code, String reason) {
    detach();
    CLOSER.execute(() -> delegate.onClosed(webSocket, code, reason));
  }

  @Override
  public void onFailure(WebSocket webSocket, Throwable t, Response response) {
    detach();
    CLOSER.execute(() -> delegate.onFailure(webSocket, t, response));
  }

  /** Takes the watch off the dispatcher's list: no request routes an event to it any more. */
  private void detach() {
    try {
      ((java.util.Set<?>) WATCHES.get(delegate)).remove(delegate);
    } catch (IllegalAccessException e) {
      throw new IllegalStateException("cannot detach a closing watch from the mock server", e);
    }
  }
}
