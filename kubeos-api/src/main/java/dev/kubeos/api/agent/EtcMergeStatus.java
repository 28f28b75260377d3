package dev.kubeos.api.agent;

import java.time.Instant;
import java.util.List;

/**
 * The last /etc merge: the node's /etc carried from one slot to the other before that slot's next
 * boot (docs/boot-contract.md, "/etc across versions"). Written by the agent to {@code
 * <state-dir>/etc-merge.json}, reported by {@code status}.
 *
 * @param fromSlot the slot whose /etc (its version's files plus the node's changes) was carried
 * @param toSlot the slot that boots with the result
 * @param toVersion the version that slot holds
 * @param at when the merge ran
 * @param upperDir the overlay upper dir the merge wrote for {@code toSlot}; null when nothing was
 *     written (see {@code note})
 * @param kept paths under /etc the node keeps as its own (changed, created or deleted on the node)
 * @param conflicts paths the node and the new version both changed, with what was done (the node's
 *     side is always kept)
 * @param fromNewVersion how many entries the new version changed or added where the node had not
 *     changed anything: these show the new version's entry
 * @param note why nothing was written, or null
 */
public record EtcMergeStatus(
    Slot fromSlot,
    Slot toSlot,
    String toVersion,
    Instant at,
    String upperDir,
    List<String> kept,
    List<String> conflicts,
    int fromNewVersion,
    String note) {

  public EtcMergeStatus {
    kept = kept == null ? List.of() : List.copyOf(kept);
    conflicts = conflicts == null ? List.of() : List.copyOf(conflicts);
  }
}
