package dev.kubeos.agent.etc.model;

import java.util.List;

/**
 * What the new overlay upper dir must hold so that the new version's /etc shows the node's changes
 * and the new version's files elsewhere: the steps in order (a directory before what it holds), the
 * conflicts, and what came from where.
 *
 * @param steps build steps of the new upper dir, parents first
 * @param conflicts paths both sides changed (the node's side stays)
 * @param fromNewVersion paths the new version changed or added that the node had not changed: these
 *     now show the new version's entry
 */
public record EtcMergePlan(
    List<Step> steps, List<EtcConflict> conflicts, List<String> fromNewVersion) {

  public EtcMergePlan {
    steps = List.copyOf(steps);
    conflicts = List.copyOf(conflicts);
    fromNewVersion = List.copyOf(fromNewVersion);
  }

  /** One entry of the new upper dir. */
  public record Step(Action action, String path) {}

  /** How an entry of the new upper dir is made. */
  public enum Action {
    /** A directory with the node's owner, group, mode and xattrs. */
    DIR_FROM_NODE,
    /** A directory with the new version's owner, group, mode and xattrs. */
    DIR_FROM_NEW,
    /** A copy of the node's file, symbolic link or special file. */
    COPY_FROM_NODE,
    /** An overlayfs whiteout (character device 0/0): the path stays deleted. */
    WHITEOUT
  }

  /** The paths the node keeps as its own (its copies and its deletions), without parent dirs. */
  public List<String> nodePaths() {
    return steps.stream().filter(s -> s.action() != Action.DIR_FROM_NEW).map(Step::path).toList();
  }
}
