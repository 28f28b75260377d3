package dev.kubeos.cluster.operator;

import dev.kubeos.cluster.proxy.model.DrainFilter;
import dev.kubeos.cluster.proxy.model.Phase;
import dev.kubeos.cluster.proxy.model.ProxyOperation;
import dev.kubeos.crd.DrainReport;
import dev.kubeos.crd.OSInstance;
import dev.kubeos.crd.OSInstanceStatus;
import dev.kubeos.crd.OSSpec;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.logging.Logger;
import java.util.stream.Collectors;

/**
 * The drain, done by the operator for the proxies (they hold no pod or eviction rights). A proxy
 * cordons its node and records {@code Draining} in its OSInstance status; the operator then evicts
 * the node's pods through the Eviction API, so PodDisruptionBudgets are respected, and answers in
 * {@code status.drain} ({@link DrainReport}, tied to the phase's {@code phasetime}): drained, or
 * failed with the pods that blocked it. Which pods are evicted, skipped or refused is {@link
 * DrainFilter}'s ({@code evictpodforce}), the deadline is the OS resource's {@code draintimeout}
 * (else {@link Settings#defaultTimeout}) counted from the phase's {@code phasetime}.
 *
 * <p>Asynchronous: {@link #round} does one round and returns, it never waits for a pod to go. A
 * round evicts the pods that are due (at most {@link Settings#parallelism} evicted and not yet gone
 * at a time); a refused eviction (429: it would violate a budget; or the API is busy) is retried
 * after a backoff that doubles up to {@link Settings#backoffMax}. The next round comes with the
 * next cache change (an evicted pod going) or at the instant {@link Round#next} names (a backoff,
 * the deadline, or a longest backoff after an eviction whose pod the cache still shows: then the
 * API server is asked, in case the cache missed the pod's going). "Drained" and "failed" are only
 * answered on a fresh list from the API server, and "failed" says of each pod left why it is there
 * (its eviction refused, or evicted and still shutting down). What a round remembers between calls
 * (which pod was evicted, its backoff) is memory only: a restarted operator evicts again, which the
 * Eviction API allows.
 */
public final class NodeDrains {
  private static final Logger LOG = Logger.getLogger(NodeDrains.class.getName());

  /**
   * How the operator drains.
   *
   * @param defaultTimeout the drain timeout when the OS resource sets no {@code draintimeout}: the
   *     same default as the proxy's
   * @param parallelism most pods of one node evicted and not gone yet at a time
   * @param backoff first wait after a refused eviction; doubles per refusal
   * @param backoffMax longest wait between two eviction attempts of one pod
   */
  public record Settings(
      Duration defaultTimeout, int parallelism, Duration backoff, Duration backoffMax) {
    public Settings {
      Objects.requireNonNull(defaultTimeout, "defaultTimeout");
      Objects.requireNonNull(backoff, "backoff");
      Objects.requireNonNull(backoffMax, "backoffMax");
      if (parallelism < 1) {
        throw new IllegalArgumentException("parallelism must be at least 1: " + parallelism);
      }
    }

    /** Production: 10 min drain timeout, 5 pods at a time, backoff 1 s doubling up to 30 s. */
    public static Settings defaults() {
      return new Settings(Duration.ofMinutes(10), 5, Duration.ofSeconds(1), Duration.ofSeconds(30));
    }

    /**
     * The drain timeout for an attempt at {@code os}: its {@code draintimeout}, else the default.
     */
    public Duration timeout(OSSpec os) {
      return os == null || os.getDraintimeout() == null
          ? defaultTimeout
          : Duration.ofSeconds(os.getDraintimeout());
    }
  }

  /**
   * What a round did.
   *
   * @param written the OSInstance as stored after the round wrote its answer, null if it wrote none
   * @param next when the next round is due at the latest (a backoff ends, the deadline); null once
   *     answered
   * @param report the answer the round wrote, null if it wrote none
   */
  public record Round(OSInstance written, DrainReport report, Instant next) {}

  /** One pod's eviction. */
  private static final class Eviction {
    /** When the Eviction API accepted it; null while not accepted. */
    Instant accepted;

    Instant notBefore;
    Duration backoff;
    int refused;

    /** Why the pod is still there, for the failed answer. */
    String why(Instant now) {
      if (accepted != null) {
        return "evicted "
            + Duration.between(accepted, now).toSeconds()
            + " s ago, still shutting down";
      }
      return refused == 0
          ? "not evicted yet"
          : "eviction refused " + refused + (refused == 1 ? " time" : " times");
    }
  }

  /** The drain of one node for one {@code Draining} phase. */
  private static final class Drain {
    final String phasetime;
    final Instant since;
    final Map<String, Eviction> pods = new HashMap<>();
    int evicted;

    /** When the pods were last listed from the API server rather than the cache; null: never. */
    Instant listed;

    Drain(String phasetime, Instant since) {
      this.phasetime = phasetime;
      this.since = since;
    }
  }

  private final KubernetesClient client;
  private final ClusterWriter writer;
  private final Settings settings;
  private final Map<String, Drain> drains = new HashMap<>();

  public NodeDrains(KubernetesClient client, ClusterWriter writer, Settings settings) {
    this.client = client;
    this.writer = writer;
    this.settings = settings;
  }

  /**
   * Whether {@code i} asks for a drain: its proxy recorded {@code Draining} for an upgrade or
   * rollback and the operator has not answered that phase yet.
   */
  public static boolean wanted(OSInstance i) {
    OSInstanceStatus st = i.getStatus();
    if (st == null || !Phase.DRAINING.wireName().equals(st.getPhase()) || i.getSpec() == null) {
      return false;
    }
    ProxyOperation op = ProxyOperation.of(i.getSpec().getNodestatus());
    if (op == null || !op.steps().contains(Phase.DRAINING)) {
      return false;
    }
    DrainReport d = st.getDrain();
    return d == null || !Objects.equals(d.getPhasetime(), st.getPhasetime());
  }

  /**
   * One round of the drain {@code i} asks for ({@link #wanted}): evicts what is due, or answers
   * when the drain is over (no pod left to evict: drained; pods that need {@code evictpodforce}, or
   * pods left at the deadline: failed).
   *
   * @param os the spec of the OS resource the OSInstance names ({@code evictpodforce}, {@code
   *     draintimeout})
   * @param pods the pods bound to the node, as the operator's cache sees them; "drained" is only
   *     answered after a fresh list from the API server agrees
   */
  public Round round(OSInstance i, OSSpec os, List<Pod> pods, Instant now) {
    String node = i.nodeName();
    String phasetime = i.getStatus().getPhasetime();
    Drain known = drains.get(node);
    Drain d =
        known != null && Objects.equals(known.phasetime, phasetime)
            ? known
            : new Drain(phasetime, parse(phasetime, now));
    drains.put(node, d);
    Instant deadline = d.since.plus(settings.timeout(os));
    boolean force = os != null && os.isEvictpodforce();
    DrainFilter.Selection sel = DrainFilter.select(onNode(pods, node), force);
    if (sel.allowed() && (sel.evict().isEmpty() || !now.isBefore(deadline) || lagging(d, now))) {
      // the cache may lag: "drained", "failed" and a wait on evicted pods that outlast the longest
      // backoff are all decided on what the API server says
      sel = DrainFilter.select(podsOnNode(node), force);
      d.listed = now;
    }
    if (!sel.allowed()) {
      return answer(
          i,
          d,
          DrainReport.FAILED,
          "drain refused: these pods need evictpodforce: true in the OS resource: "
              + String.join("; ", sel.refused()));
    }
    if (sel.evict().isEmpty()) {
      return answer(i, d, DrainReport.DRAINED, "drained " + d.evicted + " pods");
    }
    if (!now.isBefore(deadline)) {
      return answer(
          i,
          d,
          DrainReport.FAILED,
          "drain did not finish by the drain timeout ("
              + settings.timeout(os).toSeconds()
              + " s); pods still on the node (a PodDisruptionBudget or a slow shutdown holds"
              + " them): "
              + sel.evict().stream().map(p -> why(d, p, now)).collect(Collectors.joining(", ")));
    }
    Instant next = deadline;
    Set<String> present =
        sel.evict().stream().map(p -> p.getMetadata().getUid()).collect(Collectors.toSet());
    d.pods.keySet().retainAll(present);
    long inFlight = d.pods.values().stream().filter(e -> e.accepted != null).count();
    for (Pod p : sel.evict()) {
      Eviction e = d.pods.computeIfAbsent(p.getMetadata().getUid(), k -> new Eviction());
      if (e.accepted != null) {
        // evicted, still shutting down: its going is a cache change, a new round; and a round
        // comes anyway a longest backoff on, to ask the API server in case the cache missed it
        next = earlier(next, recheck(d, e));
        continue;
      }
      if (e.notBefore != null && now.isBefore(e.notBefore)) {
        next = earlier(next, e.notBefore);
        continue;
      }
      if (inFlight >= settings.parallelism()) {
        break; // one of those going starts the next round
      }
      if (evict(p)) {
        e.accepted = now;
        d.evicted++;
        inFlight++;
        next = earlier(next, recheck(d, e));
      } else {
        e.refused++;
        e.backoff = e.backoff == null ? settings.backoff() : twice(e.backoff);
        e.notBefore = now.plus(e.backoff);
        next = earlier(next, e.notBefore);
      }
    }
    return new Round(null, null, next);
  }

  /**
   * Whether a pod evicted a longest backoff ago is still in the cache, with no list from the API
   * server since: the cache may have missed its going.
   */
  private boolean lagging(Drain d, Instant now) {
    return d.pods.values().stream()
        .anyMatch(e -> e.accepted != null && !now.isBefore(recheck(d, e)));
  }

  /**
   * When an accepted eviction's pod, still in the cache, is checked against the API server: a
   * longest backoff after the eviction or the last list, whichever is later.
   */
  private Instant recheck(Drain d, Eviction e) {
    Instant from = d.listed == null || e.accepted.isAfter(d.listed) ? e.accepted : d.listed;
    return from.plus(settings.backoffMax());
  }

  private static Instant earlier(Instant a, Instant b) {
    return b.isBefore(a) ? b : a;
  }

  private static String why(Drain d, Pod p, Instant now) {
    Eviction e = d.pods.get(p.getMetadata().getUid());
    return DrainFilter.name(p) + " (" + (e == null ? "not evicted yet" : e.why(now)) + ")";
  }

  /** Forgets the drains of nodes not in {@code draining} (answered, aborted, or gone). */
  public void retain(Set<String> draining) {
    drains.keySet().retainAll(draining);
  }

  /** Nodes with a drain under way (for tests and metrics). */
  public Set<String> underway() {
    return Set.copyOf(drains.keySet());
  }

  private Round answer(OSInstance i, Drain d, String result, String message) {
    DrainReport r = new DrainReport(d.phasetime, result, message);
    OSInstance written = writer.drainReport(i, r);
    drains.remove(i.nodeName());
    if (DrainReport.FAILED.equals(result)) {
      LOG.warning(() -> i.nodeName() + ": drain failed: " + message);
    } else {
      LOG.info(() -> i.nodeName() + ": " + message);
    }
    return new Round(written, r, null);
  }

  /** Asks the Eviction API to evict {@code p}; true when accepted or the pod is gone already. */
  private boolean evict(Pod p) {
    String ns = p.getMetadata().getNamespace();
    String name = p.getMetadata().getName();
    try {
      // false: 429, the eviction would violate a PodDisruptionBudget (or the API is busy)
      return client.pods().inNamespace(ns).withName(name).evict();
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        return true;
      }
      LOG.warning("evicting " + ns + "/" + name + ": " + e.getMessage() + "; retrying later");
      return false;
    }
  }

  private Duration twice(Duration b) {
    Duration d = b.multipliedBy(2);
    return d.compareTo(settings.backoffMax()) > 0 ? settings.backoffMax() : d;
  }

  /** Pods bound to the node, straight from the API server (field selector, checked again here). */
  private List<Pod> podsOnNode(String node) {
    return onNode(
        client.pods().inAnyNamespace().withField("spec.nodeName", node).list().getItems(), node);
  }

  private static List<Pod> onNode(List<Pod> pods, String node) {
    List<Pod> out = new ArrayList<>();
    for (Pod p : pods) {
      if (p.getSpec() != null && node.equals(p.getSpec().getNodeName())) {
        out.add(p);
      }
    }
    return out;
  }

  private static Instant parse(String t, Instant fallback) {
    if (t == null) {
      return fallback;
    }
    try {
      return Instant.parse(t);
    } catch (DateTimeParseException e) {
      return fallback;
    }
  }
}
