package dev.kubeos.agent.trust;

import dev.kubeos.agent.StageRequest;

/**
 * Decides, before anything is written, whether a payload may be staged on this node. Called by
 * {@link dev.kubeos.agent.Agent#stage} under the operation lock, after the request is validated and
 * before the disk is opened.
 */
@FunctionalInterface
public interface TrustGate {
  /** A gate that checks nothing (no trust policy). */
  TrustGate NONE = request -> "signatures not checked (no trust policy)";

  /**
   * Checks the request against the node's trust policy.
   *
   * @return one line for the operation log (what was checked and the outcome)
   * @throws dev.kubeos.api.agent.AgentException SIGNATURE_REJECTED when the policy refuses the
   *     payload; DOWNLOAD_FAILED when a required signature could not be fetched;
   *     PRECONDITION_FAILED when the node's trust policy itself is broken
   */
  String check(StageRequest request);
}
