package dev.kubeos.rpc;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The socket file of the agent: a private parent directory, no window in which other users could
 * connect, stale files of a crashed daemon cleaned up, anything else left alone.
 */
final class SocketFile {
  private static final System.Logger LOG = System.getLogger(SocketFile.class.getName());
  private static final int S_IFMT = 0170000;
  private static final int S_IFSOCK = 0140000;

  private SocketFile() {}

  /** {@link #bind(Path, GroupPrincipal)} for root only (mode 0600). */
  static Bound bind(Path path) {
    return bind(path, null);
  }

  /**
   * Binds a listening socket at {@code path} with mode 0600, or 0660 owned by {@code group} when
   * one is given. The socket is bound in a fresh 0700 directory next to the target, chmod-ed there
   * and then renamed into place, so it is never reachable with looser permissions whatever the mode
   * of the parent directory. A missing parent is created 0700 (0710 owned by the group).
   *
   * @return the bound channel and the file key of the socket file (to delete only our own file)
   */
  static Bound bind(Path path, GroupPrincipal group) {
    Path parent = path.toAbsolutePath().getParent();
    try {
      if (!Files.isDirectory(parent)) {
        Files.createDirectories(
            parent,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        if (group != null) {
          Files.getFileAttributeView(parent, PosixFileAttributeView.class).setGroup(group);
        }
        Files.setPosixFilePermissions(
            parent, PosixFilePermissions.fromString(group == null ? "rwx------" : "rwx--x---"));
      }
      removeStale(path);
      Path staging =
          Files.createTempDirectory(
              parent,
              ".rpc",
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      Path staged = staging.resolve("s");
      ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
      try {
        server.bind(UnixDomainSocketAddress.of(staged), 64);
        if (group != null) {
          Files.getFileAttributeView(
                  staged, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
              .setGroup(group);
        }
        Files.setPosixFilePermissions(
            staged, PosixFilePermissions.fromString(group == null ? "rw-------" : "rw-rw----"));
        Files.move(staged, path, StandardCopyOption.ATOMIC_MOVE);
        return new Bound(server, fileKey(path));
      } catch (IOException | RuntimeException e) {
        server.close();
        Files.deleteIfExists(staged);
        throw e;
      } finally {
        Files.deleteIfExists(staging);
      }
    } catch (IOException e) {
      throw new AgentException(
          ErrorCode.IO_ERROR, "cannot create the agent socket " + path + ": " + e, e);
    }
  }

  /** Deletes the socket file if it is still the one with {@code key} (not a successor's). */
  static void delete(Path path, Object key) {
    try {
      if (key != null && key.equals(fileKey(path))) {
        Files.deleteIfExists(path);
      }
    } catch (IOException e) {
      LOG.log(Level.WARNING, "could not remove socket " + path + ": " + e);
    }
  }

  private static void removeStale(Path path) throws IOException {
    if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    if (!isSocket(path)) {
      throw new AgentException(
          ErrorCode.PRECONDITION_FAILED,
          path
              + " exists and is not a socket; the agent will not delete it: move it away or"
              + " configure another socket path");
    }
    try {
      SocketChannel.open(UnixDomainSocketAddress.of(path)).close();
      throw new AgentException(
          ErrorCode.PRECONDITION_FAILED,
          "another agent is already listening on "
              + path
              + ": stop it first (systemctl stop kubeos-agent.socket kubeos-agent.service) or"
              + " configure another socket path");
    } catch (ConnectException refused) {
      LOG.log(Level.INFO, "removing stale socket " + path + " (nothing listens on it)");
      Files.delete(path);
    }
  }

  private static boolean isSocket(Path path) throws IOException {
    int mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    return (mode & S_IFMT) == S_IFSOCK;
  }

  private static Object fileKey(Path path) throws IOException {
    if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
      return null;
    }
    return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
        .fileKey();
  }

  /** A listening channel and the identity of its socket file. */
  record Bound(ServerSocketChannel channel, Object fileKey) {}
}
