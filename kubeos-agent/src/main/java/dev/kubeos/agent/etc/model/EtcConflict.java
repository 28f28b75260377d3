package dev.kubeos.agent.etc.model;

/**
 * A path both the node and the new version changed. The node's version always stays; the conflict
 * is reported so an operator can look at the new version's file.
 *
 * @param path relative to /etc
 * @param kind what each side did
 */
public record EtcConflict(String path, Kind kind) {

  /** What the node and the new version each did to the path since the base version. */
  public enum Kind {
    /** Both changed it, differently: the node's stays. */
    BOTH_CHANGED("changed on the node and in the new version; the node's is kept"),
    /** Both created it (absent from the base), differently: the node's stays. */
    BOTH_CREATED("created on the node and in the new version; the node's is kept"),
    /** The node changed it, the new version removed it: the node's stays. */
    CHANGED_HERE_REMOVED_THERE(
        "changed on the node, removed in the new version; the node's is kept"),
    /** The node deleted it, the new version changed it: it stays deleted. */
    DELETED_HERE_CHANGED_THERE("deleted on the node, changed in the new version; stays deleted");

    private final String text;

    Kind(String text) {
      this.text = text;
    }

    public String text() {
      return text;
    }
  }

  @Override
  public String toString() {
    return "/etc/" + path + ": " + kind.text();
  }
}
