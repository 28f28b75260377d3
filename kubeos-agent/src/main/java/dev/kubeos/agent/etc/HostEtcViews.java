package dev.kubeos.agent.etc;

import dev.kubeos.agent.disk.DiskLayout;
import dev.kubeos.agent.port.BlockDevice;
import dev.kubeos.agent.port.CommandRunner;
import dev.kubeos.agent.port.DiskOpener;
import dev.kubeos.api.agent.Slot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The three /etc trees on a running node: base is the running slot's own /etc, seen through a
 * read-only bind mount of the root {@code /} (a non-recursive bind does not carry the /etc overlay
 * mounted on it); ours is the live {@code /etc}; theirs is the target slot's file system, mounted
 * read-only from the disk (loop device at the slot's offset, journal not replayed).
 */
public final class HostEtcViews implements EtcMerge.Views {
  private static final Duration TIMEOUT = Duration.ofMinutes(2);

  private final CommandRunner commands;
  private final DiskOpener disk;
  private final Path runningRoot;
  private final Path runDir;
  private final Path liveEtc;

  /**
   * @param runningRoot the running slot's root file system's mount point ({@code /} on a node)
   * @param runDir scratch mount points (on tmpfs, e.g. {@code /run/kubeos/etc-merge})
   * @param liveEtc the node's /etc
   */
  public HostEtcViews(
      CommandRunner commands, DiskOpener disk, Path runningRoot, Path runDir, Path liveEtc) {
    this.commands = commands;
    this.disk = disk;
    this.runningRoot = runningRoot;
    this.runDir = runDir;
    this.liveEtc = liveEtc;
  }

  @Override
  public EtcMerge.Opened open(Slot from, Slot to) throws IOException {
    Path diskPath =
        disk.path().orElseThrow(() -> new IOException("the disk " + disk.name() + " has no path"));
    long offset;
    long size;
    try (BlockDevice d = disk.open(false)) {
      DiskLayout layout = DiskLayout.read(d, disk.name());
      offset = layout.slotOffset(to);
      size = layout.slotSize(to);
    }
    Path root = runDir.resolve("running-root");
    Path theirs = runDir.resolve("slot-" + to.name());
    Files.createDirectories(root);
    Files.createDirectories(theirs);
    List<Path> mounted = new ArrayList<>();
    try {
      run("mount", "--bind", runningRoot.toString(), root.toString());
      mounted.add(root);
      run("mount", "-o", "remount,bind,ro", root.toString());
      run(
          "mount",
          "-t",
          "ext4",
          "-o",
          "ro,noload,loop,offset=" + offset + ",sizelimit=" + size,
          diskPath.toString(),
          theirs.toString());
      mounted.add(theirs);
    } catch (IOException e) {
      unmount(mounted);
      throw e;
    }
    return new EtcMerge.Opened(
        root.resolve("etc"), liveEtc, theirs.resolve("etc"), () -> unmount(mounted));
  }

  private void unmount(List<Path> mounted) throws IOException {
    IOException failure = null;
    for (int i = mounted.size() - 1; i >= 0; i--) {
      try {
        run("umount", mounted.get(i).toString());
      } catch (IOException e) {
        failure = failure == null ? e : failure;
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  private void run(String... argv) throws IOException {
    CommandRunner.Result r = commands.run(List.of(argv), TIMEOUT);
    if (!r.ok()) {
      throw new IOException(String.join(" ", argv) + " failed: " + r.output().strip());
    }
  }

  /**
   * Whether {@code mountinfo} (the text of /proc/self/mountinfo) shows an overlay mounted on {@code
   * /etc}: a KubeOS node, whose initramfs hook mounted it.
   */
  public static boolean etcIsOverlay(String mountinfo) {
    for (String line : mountinfo.split("\n")) {
      String[] f = line.split(" ");
      int dash = List.of(f).indexOf("-");
      if (f.length > 4 && dash > 0 && dash + 1 < f.length) {
        if (f[4].equals("/etc") && f[dash + 1].equals("overlay")) {
          return true;
        }
      }
    }
    return false;
  }
}
