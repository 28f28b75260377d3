package dev.kubeos.rpc;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.Set;
import jdk.net.UnixDomainPrincipal;

/**
 * Who may talk to the agent, decided from the peer's SO_PEERCRED: root, the agent's own user (root
 * on a node; the test user in tests), and, only when configured, one group (the peer's primary
 * group as the kernel reports it).
 */
final class PeerCheck {
  private final Set<UserPrincipal> users;
  private final GroupPrincipal group;

  private PeerCheck(Set<UserPrincipal> users, GroupPrincipal group) {
    this.users = users;
    this.group = group;
  }

  /** The check for root, this process's user and (when not null) the group named {@code group}. */
  static PeerCheck create(String group) {
    UserPrincipalLookupService lookup = FileSystems.getDefault().getUserPrincipalLookupService();
    try {
      UserPrincipal root = lookup.lookupPrincipalByName("0");
      UserPrincipal self = lookup.lookupPrincipalByName(System.getProperty("user.name"));
      GroupPrincipal allowed = group == null ? null : lookup.lookupPrincipalByGroupName(group);
      return new PeerCheck(root.equals(self) ? Set.of(root) : Set.of(root, self), allowed);
    } catch (IOException e) {
      throw new AgentException(
          ErrorCode.INVALID_REQUEST,
          "cannot resolve the socket's allowed "
              + (group == null ? "user" : "group '" + group + "'")
              + ": "
              + e.getMessage(),
          e);
    }
  }

  /** The configured group, or null for root only. */
  GroupPrincipal group() {
    return group;
  }

  /** Null when {@code peer} may connect, else why not (for the peer and the log). */
  String check(UnixDomainPrincipal peer) {
    if (users.contains(peer.user())) {
      return null;
    }
    if (group != null && group.equals(peer.group())) {
      return null;
    }
    return "permission denied: user "
        + peer.user().getName()
        + " (group "
        + peer.group().getName()
        + ") may not use the agent socket; allowed are root"
        + (group == null ? "" : " and group " + group.getName())
        + " (agent option --socket-group)";
  }
}
