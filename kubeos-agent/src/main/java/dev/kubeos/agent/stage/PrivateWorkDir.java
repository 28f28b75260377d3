package dev.kubeos.agent.stage;

import dev.kubeos.agent.port.CommandRunner;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.files.WorkDirs;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

/**
 * Where a tar payload is extracted before it is verified, made so that nothing in it is usable
 * until then:
 *
 * <ul>
 *   <li>the work dir is created mode 0700 (owned by the agent, root on a node): no other user can
 *       reach anything below it;
 *   <li>the extraction root, {@code <work dir>/rootfs}, is (when the agent runs as root, the only
 *       case where extracted files keep root owners and setuid bits) a bind mount of itself with
 *       {@code nosuid,nodev,noexec}: even root cannot execute an extracted file, a setuid bit
 *       grants nothing, and a device node (refused anyway) would not open. The options are read
 *       back from {@code /proc/self/mountinfo} and the stage fails unless all three are in effect.
 * </ul>
 *
 * {@code mkfs.ext4 -d} only reads the tree, so modes, owners and setuid bits still reach the slot
 * unchanged once the payload is verified. {@link #close()} unmounts and deletes the whole work dir;
 * {@link #clear} removes what a killed agent left (mounts included).
 */
final class PrivateWorkDir implements Closeable {
  static final String ROOTFS = "rootfs";
  static final List<String> MOUNT_OPTIONS = List.of("nosuid", "nodev", "noexec");
  private static final Duration MOUNT_TIMEOUT = Duration.ofMinutes(1);

  private final Path dir;
  private final Path rootfs;
  private final CommandRunner mounts;
  private boolean mounted;

  private PrivateWorkDir(Path dir, CommandRunner mounts) {
    this.dir = dir;
    this.rootfs = dir.resolve(ROOTFS);
    this.mounts = mounts;
  }

  /**
   * Creates the work dir {@code dir} (which must not exist or be empty) with its extraction root,
   * mounted {@code nosuid,nodev,noexec} when {@code privileged}.
   *
   * @param mounts runs mount(8) and umount(8)
   * @throws AgentException PRECONDITION_FAILED when {@code dir} holds something, IO_ERROR when the
   *     mount cannot be made with its options
   */
  static PrivateWorkDir create(Path dir, CommandRunner mounts, boolean privileged)
      throws IOException {
    if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
        throw new AgentException(
            ErrorCode.PRECONDITION_FAILED,
            "work directory " + dir + " is not a directory; remove it and retry");
      }
      try (Stream<Path> s = Files.list(dir)) {
        if (s.findAny().isPresent()) {
          throw new AgentException(
              ErrorCode.PRECONDITION_FAILED,
              "work directory " + dir + " is not empty; remove it and retry");
        }
      }
      Files.delete(dir); // recreated below with our owner and mode
    }
    Path parent = dir.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Files.createDirectory(
        dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    Files.setAttribute(dir, "unix:mode", 0700, LinkOption.NOFOLLOW_LINKS);
    PrivateWorkDir w = new PrivateWorkDir(dir.toRealPath(), mounts);
    try {
      Files.createDirectory(w.rootfs);
      Files.setAttribute(w.rootfs, "unix:mode", 0755, LinkOption.NOFOLLOW_LINKS);
      if (privileged) {
        w.mount();
      }
      return w;
    } catch (IOException | RuntimeException e) {
      try {
        w.close();
      } catch (IOException | RuntimeException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  /** The extraction root. */
  Path rootfs() {
    return rootfs;
  }

  private void mount() throws IOException {
    String opts = String.join(",", MOUNT_OPTIONS);
    List<String> argv =
        List.of("mount", "--bind", "-o", opts, rootfs.toString(), rootfs.toString());
    CommandRunner.Result r = mounts.run(argv, MOUNT_TIMEOUT);
    MountTable.Mount m = MountTable.at(MountTable.read(), rootfs);
    mounted = m != null;
    if (!r.ok() || m == null || !m.options().containsAll(MOUNT_OPTIONS)) {
      throw new AgentException(
          ErrorCode.IO_ERROR,
          "cannot make the tar extraction dir "
              + rootfs
              + " a "
              + opts
              + " mount ("
              + String.join(" ", argv)
              + (r.ok()
                  ? ": mounted with " + (m == null ? "nothing" : String.join(",", m.options()))
                  : " exited with status " + r.exitStatus() + ": " + r.output().strip())
              + "); nothing was extracted");
    }
  }

  /** Unmounts the extraction root and deletes the work dir. */
  @Override
  public void close() throws IOException {
    if (mounted) {
      unmount(mounts, rootfs.toString());
      mounted = false;
    }
    WorkDirs.deleteRecursively(dir);
  }

  /**
   * Removes {@code dir} and everything below it, unmounting first whatever is mounted there (a
   * stage killed while extracting leaves its mount behind).
   */
  static void clear(Path dir, CommandRunner mounts) throws IOException {
    if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    if (Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      for (String m : MountTable.under(MountTable.read(), dir.toRealPath())) {
        unmount(mounts, m);
      }
    }
    WorkDirs.deleteRecursively(dir);
  }

  private static void unmount(CommandRunner mounts, String mountPoint) throws IOException {
    CommandRunner.Result r = mounts.run(List.of("umount", mountPoint), MOUNT_TIMEOUT);
    if (!r.ok()) {
      // busy (something still has a file open): detach it now, the kernel frees it later
      CommandRunner.Result lazy = mounts.run(List.of("umount", "-l", mountPoint), MOUNT_TIMEOUT);
      if (!lazy.ok()) {
        throw new AgentException(
            ErrorCode.IO_ERROR,
            "cannot unmount the tar extraction dir "
                + mountPoint
                + ": "
                + r.output().strip()
                + " / "
                + lazy.output().strip());
      }
    }
  }
}
