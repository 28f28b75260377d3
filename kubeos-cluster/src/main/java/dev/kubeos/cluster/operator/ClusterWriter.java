package dev.kubeos.cluster.operator;

import dev.kubeos.crd.DrainReport;
import dev.kubeos.crd.OS;
import dev.kubeos.crd.OSInstance;
import dev.kubeos.crd.OSInstanceSpec;
import dev.kubeos.crd.OSStatus;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Every write the operator makes, one method per remote operation. All writes are JSON merge
 * patches of the fields the operator owns (no read-modify-write, so they never conflict with the
 * proxy writing {@code OSInstance.status}), and each touches exactly one object, so a crash between
 * two of them leaves a state the next reconcile completes. The operator owns the OSInstance spec
 * (assignment and hand-back) and, in the status, only {@code status.drain}; evictions are {@link
 * NodeDrains}'.
 */
public final class ClusterWriter {
  private static final PatchContext MERGE = PatchContext.of(PatchType.JSON_MERGE);
  private final KubernetesClient client;
  private final String component;

  public ClusterWriter(KubernetesClient client, String component) {
    this.client = client;
    this.component = component;
  }

  /**
   * Writes the operator-owned part of an OSInstance spec ({@link OSInstanceSpec#assignment}) as a
   * typed JSON merge patch: its null fields are left out, so they keep their value on the server.
   * Returns the object as stored.
   */
  public OSInstance assign(OSInstance instance, OSInstanceSpec spec) {
    return client
        .resources(OSInstance.class)
        .inNamespace(instance.getMetadata().getNamespace())
        .resource(instance) // names the object: no GET before the patch
        .patch(MERGE, specPatch(instance, spec));
  }

  /**
   * The merge patch of {@link #assign}: the object's name and namespace (no resourceVersion, so it
   * never conflicts with the proxy's status writes) and {@code spec}; no status.
   */
  static OSInstance specPatch(OSInstance instance, OSInstanceSpec spec) {
    OSInstance patch = new OSInstance();
    patch.setMetadata(
        new ObjectMetaBuilder()
            .withName(instance.getMetadata().getName())
            .withNamespace(instance.getMetadata().getNamespace())
            .build());
    patch.setSpec(spec);
    patch.setStatus(null);
    return patch;
  }

  /**
   * Hands the node back: {@code spec.nodestatus: idle} (a merge patch of that field alone), once
   * its proxy reported the attempt at the assigned target over (upstream's proxy writes this
   * itself; here only the operator writes the spec).
   */
  public OSInstance handBack(OSInstance instance) {
    return client
        .resources(OSInstance.class)
        .inNamespace(instance.getMetadata().getNamespace())
        .resource(instance)
        .patch(MERGE, "{\"spec\":{\"nodestatus\":\"" + OSInstanceSpec.IDLE + "\"}}");
  }

  /**
   * Writes the operator's drain answer, {@code status.drain}, through the status subresource (a
   * merge patch of that field alone, so it never conflicts with the proxy's status writes).
   */
  public OSInstance drainReport(OSInstance instance, DrainReport report) {
    String json =
        client.getKubernetesSerialization().asJson(Map.of("status", Map.of("drain", report)));
    return client
        .resources(OSInstance.class)
        .inNamespace(instance.getMetadata().getNamespace())
        .resource(instance)
        .status()
        .patch(MERGE, json);
  }

  /** Sets (value non-null) or removes (value null) node labels and annotations. */
  public Node markNode(Node node, Map<String, String> labels, Map<String, String> annotations) {
    Map<String, Object> meta = new LinkedHashMap<>();
    if (!labels.isEmpty()) {
      meta.put("labels", labels);
    }
    if (!annotations.isEmpty()) {
      meta.put("annotations", annotations);
    }
    String json = client.getKubernetesSerialization().asJson(Map.of("metadata", meta));
    return client.nodes().resource(node).patch(MERGE, json);
  }

  /**
   * Removes node labels and annotations with a JSON patch (a merge patch with nulls is not honoured
   * by every server, fabric8's mock included); only keys present in {@code cached} are named, and
   * if one is gone meanwhile the server refuses the patch and the next reconcile retries.
   */
  public Node unmarkNode(Node cached, List<String> labels, List<String> annotations) {
    List<Map<String, String>> ops = new ArrayList<>();
    Map<String, String> l = cached.getMetadata().getLabels();
    Map<String, String> a = cached.getMetadata().getAnnotations();
    labels.stream()
        .filter(k -> l != null && l.containsKey(k))
        .forEach(k -> ops.add(remove("/metadata/labels/" + escape(k))));
    annotations.stream()
        .filter(k -> a != null && a.containsKey(k))
        .forEach(k -> ops.add(remove("/metadata/annotations/" + escape(k))));
    if (ops.isEmpty()) {
      return cached;
    }
    String json = client.getKubernetesSerialization().asJson(ops);
    return client.nodes().resource(cached).patch(PatchContext.of(PatchType.JSON), json);
  }

  private static Map<String, String> remove(String path) {
    return Map.of("op", "remove", "path", path);
  }

  private static String escape(String key) {
    return key.replace("~", "~0").replace("/", "~1");
  }

  /** Replaces {@code OS.status} through the status subresource. */
  public OS status(OS os, OSStatus status) {
    // a JSON patch "add" of the whole status replaces it, conditions list included
    String json =
        client
            .getKubernetesSerialization()
            .asJson(List.of(Map.of("op", "add", "path", "/status", "value", status)));
    return client
        .resources(OS.class)
        .inNamespace(os.getMetadata().getNamespace())
        .resource(os)
        .status()
        .patch(PatchContext.of(PatchType.JSON), json);
  }

  /** Records a core/v1 Event about an OS resource. */
  public void event(OS os, String type, String reason, String message, Instant now) {
    String ns = os.getMetadata().getNamespace();
    String name = os.getMetadata().getName() + "." + UUID.randomUUID().toString().substring(0, 8);
    Event e =
        new EventBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace(ns)
            .endMetadata()
            .withNewInvolvedObject()
            .withApiVersion(os.getApiVersion())
            .withKind(os.getKind())
            .withName(os.getMetadata().getName())
            .withNamespace(ns)
            .withUid(os.getMetadata().getUid())
            .withResourceVersion(os.getMetadata().getResourceVersion())
            .endInvolvedObject()
            .withType(type)
            .withReason(reason)
            .withMessage(message.length() > 1000 ? message.substring(0, 997) + "..." : message)
            .withFirstTimestamp(now.toString())
            .withLastTimestamp(now.toString())
            .withCount(1)
            .withNewSource()
            .withComponent(component)
            .endSource()
            .withReportingComponent(component)
            .build();
    client.v1().events().inNamespace(ns).resource(e).create();
  }
}
