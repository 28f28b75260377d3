package dev.kubeos.cluster.proxy;

import dev.kubeos.crd.OS;
import dev.kubeos.crd.OSInstance;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventList;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodList;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudgetList;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.mockwebserver.http.WebSocketListener;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * fabric8's CRUD mock server does not implement the Eviction subresource (a POST to {@code
 * pods/NAME/eviction} would be stored as an object). This dispatcher answers it the way the API
 * server does: 429 when evicting would take the pods a PodDisruptionBudget selects below its {@code
 * minAvailable} (or above {@code maxUnavailable: 0}), otherwise the pod is deleted and 201
 * returned. Everything else is plain CRUD (Events in a list of their own, see {@code events}). Each
 * eviction answer is recorded. Watches close off the server's event loop ({@link
 * WatchCloseOffEventLoop}: closing one never stalls the server).
 */
final class EvictionDispatcher extends KubernetesCrudDispatcher {
  private static final Pattern EVENTS =
      Pattern.compile("^/api/v1/namespaces/([^/]+)/events(\\?.*)?$");
  private static final Pattern EVICTION =
      Pattern.compile("^/api/v1/namespaces/([^/]+)/pods/([^/?]+)/eviction(\\?.*)?$");

  /** One answered eviction. */
  record Eviction(String pod, int code) {}

  final List<Eviction> evictions = new CopyOnWriteArrayList<>();

  /**
   * Requests ("METHOD path") that match are never answered (the answer's body is held an hour, off
   * the event loop: the server goes on serving everything else), as a stalled API server call.
   */
  volatile java.util.function.Predicate<String> stall = r -> false;

  /** The requests held by {@link #stall}. */
  final List<String> stalled = new CopyOnWriteArrayList<>();

  /**
   * Events, kept apart from the CRUD store: the mock scans every stored object on each request, and
   * a 200-node rollout writes over a thousand Events that only the tests read back. They are
   * answered as the API server does: POST creates (201), GET lists a namespace's Events.
   */
  private final List<Event> events = new CopyOnWriteArrayList<>();

  private final java.util.concurrent.atomic.AtomicLong eventVersion =
      new java.util.concurrent.atomic.AtomicLong();
  private final KubernetesSerialization json = new KubernetesSerialization();

  EvictionDispatcher() {
    super(
        List.of(
            CustomResourceDefinitionContext.fromCustomResourceType(OS.class),
            CustomResourceDefinitionContext.fromCustomResourceType(OSInstance.class)));
  }

  @Override
  public MockResponse handleWatch(String path) {
    MockResponse r = super.handleWatch(path);
    WebSocketListener l = r.getWebSocketListener();
    return l == null ? r : r.withWebSocketUpgrade(new WatchCloseOffEventLoop(l));
  }

  @Override
  public MockResponse dispatch(RecordedRequest request) {
    String call = request.getMethod() + " " + request.getPath();
    if (stall.test(call)) {
      stalled.add(call);
      return json(500, "{}").setBodyDelay(java.time.Duration.ofHours(1));
    }
    Matcher ev = EVENTS.matcher(request.getPath());
    if (ev.matches() && "POST".equals(request.getMethod())) {
      Event e = json.unmarshal(request.getBody().readUtf8(), Event.class);
      e.getMetadata().setNamespace(ev.group(1));
      e.getMetadata().setResourceVersion(Long.toString(eventVersion.incrementAndGet()));
      e.getMetadata().setUid(java.util.UUID.randomUUID().toString());
      events.add(e);
      return json(201, json.asJson(e));
    }
    if (ev.matches() && "GET".equals(request.getMethod())) {
      List<Event> in =
          events.stream().filter(e -> ev.group(1).equals(e.getMetadata().getNamespace())).toList();
      EventList list = new EventList();
      list.setItems(new java.util.ArrayList<>(in));
      list.setMetadata(new io.fabric8.kubernetes.api.model.ListMeta());
      list.getMetadata().setResourceVersion(Long.toString(eventVersion.get()));
      return json(200, json.asJson(list));
    }
    Matcher m = EVICTION.matcher(request.getPath());
    if ("GET".equals(request.getMethod()) && request.getPath().contains("spec.nodeName")) {
      // the mock cannot select pods by spec.nodeName (the API server can): answer the list
      // without that selector; the proxy checks spec.nodeName itself as well
      return handleGet(request.getPath().replaceAll("fieldSelector=spec\\.nodeName%3D[^&]*&?", ""));
    }
    if (!"POST".equals(request.getMethod()) || !m.matches()) {
      return super.dispatch(request);
    }
    String ns = m.group(1);
    String name = m.group(2);
    String podPath = "/api/v1/namespaces/" + ns + "/pods/" + name;
    MockResponse got = handleGet(podPath);
    if (got.code() != 200) {
      return answer(ns + "/" + name, 404, "pods \"" + name + "\" not found", "NotFound");
    }
    Pod pod = json.unmarshal(got.getBody().readUtf8(), Pod.class);
    if (violatesBudget(ns, pod)) {
      return answer(
          ns + "/" + name,
          429,
          "Cannot evict pod as it would violate the pod's disruption budget.",
          "TooManyRequests");
    }
    handleDelete(podPath);
    return answer(ns + "/" + name, 201, "", null);
  }

  private boolean violatesBudget(String ns, Pod pod) {
    MockResponse r = handleGet("/apis/policy/v1/namespaces/" + ns + "/poddisruptionbudgets");
    if (r.code() != 200) {
      return false;
    }
    var pdbs = json.unmarshal(r.getBody().readUtf8(), PodDisruptionBudgetList.class).getItems();
    var pods =
        json.unmarshal(
                handleGet("/api/v1/namespaces/" + ns + "/pods").getBody().readUtf8(), PodList.class)
            .getItems();
    for (PodDisruptionBudget pdb : pdbs) {
      Map<String, String> sel = pdb.getSpec().getSelector().getMatchLabels();
      if (!matches(sel, pod)) {
        continue;
      }
      long healthy = pods.stream().filter(p -> matches(sel, p)).count();
      var min = pdb.getSpec().getMinAvailable();
      var maxUnavailable = pdb.getSpec().getMaxUnavailable();
      if (min != null && healthy - 1 < min.getIntVal()) {
        return true;
      }
      if (maxUnavailable != null && maxUnavailable.getIntVal() == 0) {
        return true;
      }
    }
    return false;
  }

  private static boolean matches(Map<String, String> selector, Pod p) {
    Map<String, String> labels = p.getMetadata().getLabels();
    return selector != null && labels != null && labels.entrySet().containsAll(selector.entrySet());
  }

  private static MockResponse json(int code, String body) {
    return new MockResponse()
        .setResponseCode(code)
        .setHeader("Content-Type", "application/json")
        .setBody(body);
  }

  private MockResponse answer(String pod, int code, String message, String reason) {
    evictions.add(new Eviction(pod, code));
    String status =
        code == 201
            ? "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Success\"}"
            : "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":\""
                + message
                + "\",\"reason\":\""
                + reason
                + "\",\"code\":"
                + code
                + "}";
    return new MockResponse()
        .setResponseCode(code)
        .setHeader("Content-Type", "application/json")
        .setBody(status);
  }
}
