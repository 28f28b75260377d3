package dev.kubeos.cluster.proxy;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.util.UUID;
import java.util.logging.Logger;

/**
 * Records the proxy's transitions as core/v1 Events about its Node ({@code involvedObject} = the
 * Node), so {@code kubectl describe node} and {@code kubectl get events} show what the upgrade did.
 * Events go into the proxy's namespace (that of the OSInstances). Best effort: an Event that cannot
 * be written is logged, never fails the step (the OSInstance status is the record that counts).
 */
final class NodeEvents {
  /** {@code source.component} and {@code reportingComponent} of the proxy's Events. */
  static final String COMPONENT = "kubeos-proxy";

  static final String STAGED = "Staged";
  static final String DRAINING = "Draining";
  static final String DRAIN_FAILED = "DrainFailed";
  static final String REBOOTING = "Rebooting";
  static final String REBOOTED = "Rebooted";
  static final String FAILED = "Failed";
  static final String ABORTED = "Aborted";
  static final String UPGRADED = "Upgraded";
  static final String CONFIGURED = "Configured";
  static final String CONFIGURE_WARNING = "ConfigureWarning";
  static final String ROLLED_BACK = "RolledBack";

  private static final Logger LOG = Logger.getLogger(NodeEvents.class.getName());
  private static final int MAX_MESSAGE = 1000;

  private final KubernetesClient client;
  private final String namespace;
  private final Clock clock;

  NodeEvents(KubernetesClient client, String namespace, Clock clock) {
    this.client = client;
    this.namespace = namespace;
    this.clock = clock;
  }

  void normal(Node node, String reason, String message) {
    record(node, "Normal", reason, message);
  }

  void warning(Node node, String reason, String message) {
    record(node, "Warning", reason, message);
  }

  private void record(Node node, String type, String reason, String message) {
    if (node == null) {
      return;
    }
    String name = node.getMetadata().getName();
    String now = clock.instant().toString();
    var event =
        new EventBuilder()
            .withNewMetadata()
            .withName(name + "." + UUID.randomUUID().toString().substring(0, 13))
            .withNamespace(namespace)
            .endMetadata()
            .withNewInvolvedObject()
            .withApiVersion("v1")
            .withKind("Node")
            .withName(name)
            .withUid(node.getMetadata().getUid())
            .endInvolvedObject()
            .withType(type)
            .withReason(reason)
            .withMessage(
                message.length() > MAX_MESSAGE
                    ? message.substring(0, MAX_MESSAGE - 3) + "..."
                    : message)
            .withFirstTimestamp(now)
            .withLastTimestamp(now)
            .withCount(1)
            .withNewSource()
            .withComponent(COMPONENT)
            .withHost(name)
            .endSource()
            .withReportingComponent(COMPONENT)
            .withReportingInstance(name)
            .build();
    try {
      client.v1().events().inNamespace(namespace).resource(event).create();
    } catch (KubernetesClientException e) {
      LOG.warning(name + ": could not record Event " + reason + ": " + e.getMessage());
    }
  }
}
