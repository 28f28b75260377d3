package dev.kubeos.cluster.proxy;

import dev.kubeos.cluster.proxy.model.Phase;
import dev.kubeos.crd.OSInstance;
import dev.kubeos.crd.OSInstanceSpec;
import dev.kubeos.crd.OSInstanceStatus;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.HttpURLConnection;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Reads the node's OSInstance and records the proxy's transitions in its status (phase, message,
 * target, phasetime, starttime, endtime). Each write is a status update carrying the
 * resourceVersion just read; a conflict (the operator changed the spec or wrote its drain answer
 * meanwhile) is redone on the fresh object. The proxy never writes the spec after creating the
 * OSInstance (the admission policy in deploy/proxy/ refuses it): the operator hands the node back.
 */
final class InstanceStatusWriter {
  private final KubernetesClient client;
  private final String namespace;
  private final String name;
  private final Clock clock;

  InstanceStatusWriter(KubernetesClient client, String namespace, String name, Clock clock) {
    this.client = client;
    this.namespace = namespace;
    this.name = name;
    this.clock = clock;
  }

  String where() {
    return namespace + "/" + name;
  }

  OSInstance read() {
    return client.resources(OSInstance.class).inNamespace(namespace).withName(name).get();
  }

  /**
   * Registers the node: creates its OSInstance, named after it and labelled {@link
   * OSInstance#NODE_LABEL} (as upstream's proxy), {@code nodestatus: idle}, owned by the Node so it
   * goes when the Node is deleted. Returns false when it exists already: another proxy (a restarted
   * one, or two racing) created it first, which is as good.
   */
  boolean register(Node node) {
    OSInstance i = new OSInstance();
    i.getMetadata().setName(name);
    i.getMetadata().setNamespace(namespace);
    i.getMetadata().setLabels(Map.of(OSInstance.NODE_LABEL, name));
    i.getMetadata()
        .setOwnerReferences(
            List.of(
                new OwnerReferenceBuilder()
                    .withApiVersion("v1")
                    .withKind("Node")
                    .withName(node.getMetadata().getName())
                    .withUid(node.getMetadata().getUid())
                    .build()));
    i.setSpec(OSInstanceSpec.assignment(OSInstanceSpec.IDLE, null, null, null));
    i.setStatus(null);
    try {
      client.resources(OSInstance.class).inNamespace(namespace).resource(i).create();
      return true;
    } catch (KubernetesClientException e) {
      if (e.getCode() == HttpURLConnection.HTTP_CONFLICT) {
        return false;
      }
      throw e;
    }
  }

  /** Begins an attempt at {@code target} in {@code first}. */
  void start(Phase first, String target, String message) {
    String now = clock.instant().toString();
    write(
        s -> {
          s.setTarget(target);
          s.setStarttime(now);
          s.setEndtime(null);
          s.setDrain(null); // the operator's answer to an earlier attempt
          set(s, first, message, now);
        });
  }

  /** Records entering {@code phase}; a terminal phase also ends the attempt. */
  void record(Phase phase, String message) {
    record(phase, message, s -> {});
  }

  void record(Phase phase, String message, Consumer<OSInstanceStatus> also) {
    String now = clock.instant().toString();
    write(
        s -> {
          also.accept(s);
          set(s, phase, message, now);
          if (phase.terminal()) {
            s.setEndtime(now);
          }
        });
  }

  /** Updates only the message (a retried step keeps its phase and phasetime). */
  void note(String message) {
    write(s -> s.setMessage(message));
  }

  private static void set(OSInstanceStatus s, Phase phase, String message, String now) {
    s.setPhase(phase.wireName());
    s.setMessage(message);
    s.setPhasetime(now);
  }

  private void write(Consumer<OSInstanceStatus> change) {
    for (int attempt = 0; ; attempt++) {
      OSInstance i = read();
      if (i == null) {
        throw new IllegalStateException("OSInstance " + where() + " disappeared");
      }
      if (i.getStatus() == null) {
        i.setStatus(new OSInstanceStatus());
      }
      change.accept(i.getStatus());
      try {
        client.resources(OSInstance.class).inNamespace(namespace).resource(i).updateStatus();
        return;
      } catch (KubernetesClientException e) {
        if (e.getCode() != HttpURLConnection.HTTP_CONFLICT || attempt >= 5) {
          throw e;
        }
      }
    }
  }
}
