package dev.kubeos.agent.port;

import dev.kubeos.api.agent.EtcMergeStatus;
import dev.kubeos.api.agent.Slot;
import java.io.IOException;
import java.util.Optional;

/**
 * Carries the node's own /etc (its changes over the running version's files) to the other slot
 * before that slot boots: the three-way merge of docs/boot-contract.md, "/etc across versions".
 */
public interface EtcCarrier {

  /**
   * Prepares slot {@code to}'s overlay upper dir from the running slot {@code from}; returns when
   * the result is durable. Never touches the running slot's upper dir.
   *
   * @param toVersion the version slot {@code to} holds
   * @return the merge's report
   */
  EtcMergeStatus carry(Slot from, Slot to, String toVersion) throws IOException;

  /** What {@link #carry} would do now, writing nothing (no upper dir, no report). */
  EtcMergeStatus preview(Slot from, Slot to, String toVersion) throws IOException;

  /** The last merge's report, empty when there was none (or the node has no /etc overlay). */
  Optional<EtcMergeStatus> lastReport() throws IOException;

  /** For nodes without the KubeOS /etc overlay (and tests of other things): carries nothing. */
  EtcCarrier NONE =
      new EtcCarrier() {
        @Override
        public EtcMergeStatus carry(Slot from, Slot to, String toVersion) {
          return new EtcMergeStatus(
              from, to, toVersion, null, null, null, null, 0, "no /etc overlay on this node");
        }

        @Override
        public EtcMergeStatus preview(Slot from, Slot to, String toVersion) {
          return carry(from, to, toVersion);
        }

        @Override
        public Optional<EtcMergeStatus> lastReport() {
          return Optional.empty();
        }
      };
}
