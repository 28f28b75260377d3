package dev.kubeos.cluster.plan;

import dev.kubeos.crd.OSInstanceSpec;
import java.time.Instant;

/**
 * A node's OSInstance as the planner sees it.
 *
 * @param nodestatus upstream's {@code spec.nodestatus}: {@code idle}, {@code upgrade}, {@code
 *     config} or {@code rollback}
 * @param configVersion {@code status.sysconfigs.version}: the configuration the node runs
 * @param phase {@code status.phase} of the proxy's state machine ({@code Failed}, {@code Done},
 *     ...)
 * @param target {@code status.target}: what {@code phase}, {@code startTime}, {@code endTime} refer
 *     to
 */
public record InstanceView(
    String nodestatus,
    String configVersion,
    String phase,
    String target,
    Instant startTime,
    Instant endTime) {

  /** An idle OSInstance that never worked on anything. */
  public static InstanceView idle(String configVersion) {
    return new InstanceView(OSInstanceSpec.IDLE, configVersion, null, null, null, null);
  }

  /** Whether the operator has assigned an operation that the node has not finished. */
  public boolean assigned() {
    return !OSInstanceSpec.idle(nodestatus);
  }
}
