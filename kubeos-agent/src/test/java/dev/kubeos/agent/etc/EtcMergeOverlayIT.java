package dev.kubeos.agent.etc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kubeos.agent.etc.model.EtcEntry;
import dev.kubeos.agent.host.ProcessCommandRunner;
import dev.kubeos.agent.port.CommandRunner;
import dev.kubeos.api.agent.EtcMergeStatus;
import dev.kubeos.api.agent.Slot;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.NavigableMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The /etc merge across a simulated upgrade with real overlayfs mounts (needs root): the node works
 * on the running slot's overlay (its writes make real copy-ups, whiteouts and an opaque dir), the
 * merge writes slot B's upper dir, and the new version's overlay shows the result; the running
 * slot's upper dir still gives the old view (a fallback).
 */
class EtcMergeOverlayIT {
  static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;
  static final String HOOK_TEXT = "#!/bin/sh\n# " + EtcMerge.PER_SLOT_MARKER + "\n";

  @TempDir Path tmp;
  final CommandRunner commands = new ProcessCommandRunner();
  final Deque<Path> mounts = new ArrayDeque<>();
  Path base;
  Path theirs;
  Path persistEtc;
  Path view;

  @BeforeEach
  void requireRootAndOverlay() throws IOException {
    assumeTrue(
        "root".equals(System.getProperty("user.name"))
            && Files.readString(Path.of("/proc/filesystems")).contains("overlay"),
        "needs root and overlayfs");
    base = Files.createDirectories(tmp.resolve("slot-a/etc"));
    theirs = Files.createDirectories(tmp.resolve("slot-b/etc"));
    persistEtc = Files.createDirectories(tmp.resolve("persist/etc"));
    view = Files.createDirectories(tmp.resolve("root/etc"));
  }

  @AfterEach
  void unmount() throws IOException {
    while (!mounts.isEmpty()) {
      run("umount", mounts.pop().toString());
    }
  }

  @Test
  void nodeChangesStayTheNewVersionArrivesConflictsAreReportedAndTheOldSlotIsUntouched()
      throws IOException {
    // version 1 (slot A) and version 2 (slot B)
    for (Path etc : List.of(base, theirs)) {
      write(etc, "containerd/config.toml", "version = 2 # v1\n");
      write(etc, "sysctl.d/90-node.conf", "vm.swappiness=60\n");
      write(etc, "hosts", "127.0.0.1 localhost\n");
      write(etc, "motd", "welcome\n");
      write(etc, "issue", "KubeOS 1\n");
      write(etc, "shadow", "root:*:1::::::\n");
      Files.setPosixFilePermissions(
          etc.resolve("shadow"), PosixFilePermissions.fromString("rw-r-----"));
      write(etc, "apt/a.list", "deb a\n");
      write(etc, "apt/b.list", "deb b\n");
      write(etc, "ssl/openssl.cnf", "[default]\n");
      Files.createSymbolicLink(etc.resolve("localtime"), Path.of("/usr/share/zoneinfo/UTC"));
      write(etc, "untouched.conf", "same\n");
    }
    write(theirs, EtcMerge.HOOK, HOOK_TEXT);
    write(theirs, "containerd/config.toml", "version = 2 # v2: SystemdCgroup = true\n");
    write(theirs, "hosts", "127.0.0.1 localhost kubeos\n");
    write(theirs, "issue", "KubeOS 2\n");
    write(theirs, "apt/b.list", "deb b2\n");
    write(theirs, "apt/c.list", "deb c\n");
    write(theirs, "untouched.conf", "new in v2\n");
    Files.setPosixFilePermissions(
        theirs.resolve("ssl"), PosixFilePermissions.fromString("rwxr-x---"));

    // the node runs slot A: shared upper dir (an image as built), the node's changes in its /etc
    Path upperA = persistEtc.resolve("upper");
    mountOverlay(base, upperA, persistEtc.resolve("work"), view);
    write(view, "containerd/config.toml", "version = 2 # v1\n"); // copy-up, content unchanged
    write(view, "sysctl.d/90-node.conf", "vm.swappiness=10\n"); // configure
    write(view, "hosts", "10.0.0.1 node\n"); // by hand; v2 changed it too
    Files.delete(view.resolve("motd")); // whiteout, v2 unchanged
    Files.delete(view.resolve("issue")); // whiteout, v2 changed it
    Files.setPosixFilePermissions(
        view.resolve("shadow"), PosixFilePermissions.fromString("rw-------"));
    Files.delete(view.resolve("apt/a.list"));
    Files.delete(view.resolve("apt/b.list"));
    Files.delete(view.resolve("apt"));
    write(view, "apt/mine.list", "deb mine\n"); // apt is now an opaque dir in the upper
    write(view, "ssl/openssl.cnf", "[default]\nnode=1\n");
    Files.delete(view.resolve("localtime"));
    Files.createSymbolicLink(
        view.resolve("localtime"), Path.of("/usr/share/zoneinfo/Europe/Paris"));
    write(view, "machine-id", "0123456789abcdef\n");

    // what the kernel made in the upper dir
    assertThat(isWhiteout(upperA.resolve("motd"))).isTrue();
    assertThat(isWhiteout(upperA.resolve("issue"))).isTrue();
    assertThat(upperA.resolve("apt/a.list")).doesNotExist(); // hidden by the opaque dir, not by
    assertThat(view.resolve("apt/a.list")).doesNotExist(); // a whiteout
    assertThat(upperA.resolve("containerd/config.toml")).exists();
    NavigableMap<String, EtcEntry> nodeViewBefore = EtcTrees.scan(view);

    EtcMergeStatus preview = merge().preview(Slot.A, Slot.B, "2.0.0");
    assertThat(persistEtc.resolve("B")).doesNotExist();
    assertThat(merge().lastReport()).isEmpty();

    EtcMergeStatus report = merge().carry(Slot.A, Slot.B, "2.0.0");
    assertThat(preview.kept()).isEqualTo(report.kept());
    assertThat(preview.conflicts()).isEqualTo(report.conflicts());
    assertThat(preview.note()).isEqualTo(EtcMerge.DRY_RUN);
    assertThat(EtcMerge.summary(preview))
        .startsWith(
            "/etc for slot B (2.0.0) would be merged (dry run, nothing written) from slot A:")
        .contains("3 conflicts");
    assertThat(EtcMerge.summary(report))
        .startsWith("/etc for slot B (2.0.0) merged from slot A:")
        .contains("3 conflicts (node's kept): /etc/");

    assertThat(report.conflicts())
        .containsExactlyInAnyOrder(
            "/etc/hosts: changed on the node and in the new version; the node's is kept",
            "/etc/issue: deleted on the node, changed in the new version; stays deleted",
            "/etc/apt/b.list: deleted on the node, changed in the new version; stays deleted");
    assertThat(report.kept())
        .contains("/etc/sysctl.d/90-node.conf", "/etc/hosts", "/etc/motd", "/etc/machine-id")
        .doesNotContain("/etc/containerd/config.toml", "/etc/untouched.conf");
    assertThat(report.upperDir()).isEqualTo(persistEtc.resolve("B/upper").toString());
    assertThat(merge().lastReport()).contains(report);
    assertThat(Files.readString(persistEtc.resolve("B/conflicts.txt")))
        .contains("/etc/hosts: changed on the node");

    // the first boot of slot B: its own upper dir over version 2's /etc
    Path viewB = Files.createDirectories(tmp.resolve("root-b/etc"));
    mountOverlay(theirs, persistEtc.resolve("B/upper"), persistEtc.resolve("B/work"), viewB);
    assertThat(read(viewB, "containerd/config.toml")).contains("SystemdCgroup"); // arrived
    assertThat(read(viewB, "untouched.conf")).isEqualTo("new in v2\n");
    assertThat(read(viewB, "sysctl.d/90-node.conf")).isEqualTo("vm.swappiness=10\n");
    assertThat(read(viewB, "hosts")).isEqualTo("10.0.0.1 node\n"); // conflict: node's
    assertThat(viewB.resolve("motd")).doesNotExist();
    assertThat(viewB.resolve("issue")).doesNotExist();
    assertThat(viewB.resolve("apt/a.list")).doesNotExist();
    assertThat(viewB.resolve("apt/b.list")).doesNotExist();
    assertThat(read(viewB, "apt/c.list")).isEqualTo("deb c\n"); // new in v2: not hidden
    assertThat(read(viewB, "apt/mine.list")).isEqualTo("deb mine\n");
    assertThat(
            PosixFilePermissions.toString(Files.getPosixFilePermissions(viewB.resolve("shadow"))))
        .isEqualTo("rw-------");
    assertThat(Files.readSymbolicLink(viewB.resolve("localtime")))
        .isEqualTo(Path.of("/usr/share/zoneinfo/Europe/Paris"));
    assertThat(read(viewB, "ssl/openssl.cnf")).contains("node=1");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(viewB.resolve("ssl"))))
        .isEqualTo("rwxr-x---"); // the dir's mode is the new version's
    assertThat(read(viewB, "machine-id")).isEqualTo("0123456789abcdef\n");
    assertThat(persistEtc.resolve("B/upper/containerd/config.toml")).doesNotExist();

    // the trial of B fails, GRUB falls back to A: A's overlay shows exactly what it showed
    run("umount", mounts.pop().toString());
    run("umount", mounts.pop().toString());
    mountOverlay(base, upperA, persistEtc.resolve("work"), view);
    assertThat(EtcTrees.scan(view)).isEqualTo(nodeViewBefore);
  }

  @Test
  void anInterruptedMergeLeavesTheSlotsLastUpperDirAndIsCleanedUpByTheNext() throws IOException {
    write(base, "hosts", "v1\n");
    write(theirs, "hosts", "v1\n");
    write(theirs, EtcMerge.HOOK, HOOK_TEXT);
    write(base, "motd", "m\n");
    write(theirs, "motd", "m\n");
    mountOverlay(base, persistEtc.resolve("upper"), persistEtc.resolve("work"), view);
    write(view, "hosts", "node 1\n");
    merge().carry(Slot.A, Slot.B, "2");
    Path firstGen = persistEtc.resolve(Files.readSymbolicLink(persistEtc.resolve("B")));

    // the node changes more, then a merge dies while writing (here: no whiteouts can be made)
    write(view, "hosts", "node 2\n");
    Files.delete(view.resolve("motd"));
    CommandRunner noMknod = (argv, timeout) -> new CommandRunner.Result(1, "mknod: EPERM", false);
    EtcMerge failing =
        new EtcMerge(
            new FixedViews(base, view, theirs),
            new EtcSlotDirs(persistEtc),
            tmp.resolve("state/etc-merge.json"),
            new EtcUpperWriter(noMknod),
            Clock.systemUTC());
    assertThatThrownBy(() -> failing.carry(Slot.A, Slot.B, "2")).hasMessageContaining("mknod");
    assertThat(persistEtc.resolve(Files.readSymbolicLink(persistEtc.resolve("B"))))
        .isEqualTo(firstGen);
    assertThat(Files.readString(persistEtc.resolve("B/upper/hosts"))).isEqualTo("node 1\n");

    merge().carry(Slot.A, Slot.B, "2");
    assertThat(Files.readString(persistEtc.resolve("B/upper/hosts"))).isEqualTo("node 2\n");
    assertThat(isWhiteout(persistEtc.resolve("B/upper/motd"))).isTrue();
    try (var entries = Files.list(persistEtc)) {
      assertThat(entries.map(p -> p.getFileName().toString()))
          .containsExactlyInAnyOrder("upper", "work", "B", "B.3");
    }
  }

  @Test
  void aMountBelowTheNodesEtcIsNeitherCopiedNorWhitedOut() throws IOException {
    for (Path etc : List.of(base, theirs)) {
      write(etc, "KubeOS/health.json", "{\"checks\": 1}\n");
    }
    write(theirs, "KubeOS/health.json", "{\"checks\": 2}\n");
    write(theirs, EtcMerge.HOOK, HOOK_TEXT);
    mountOverlay(base, persistEtc.resolve("upper"), persistEtc.resolve("work"), view);
    Path elsewhere = Files.createDirectories(tmp.resolve("elsewhere"));
    write(elsewhere, "other.json", "mounted\n");
    run("mount", "--bind", elsewhere.toString(), view.resolve("KubeOS").toString());
    mounts.push(view.resolve("KubeOS"));

    EtcMergeStatus report = merge().carry(Slot.A, Slot.B, "2");

    assertThat(report.kept()).isEmpty();
    assertThat(persistEtc.resolve("B/upper/KubeOS")).doesNotExist();
    Path viewB = Files.createDirectories(tmp.resolve("root-b/etc"));
    mountOverlay(theirs, persistEtc.resolve("B/upper"), persistEtc.resolve("B/work"), viewB);
    assertThat(read(viewB, "KubeOS/health.json")).isEqualTo("{\"checks\": 2}\n");
  }

  @Test
  void aNewVersionWithTheSharedUpperDirLayoutIsNotMerged() throws IOException {
    write(base, "hosts", "v1\n");
    write(theirs, "hosts", "v2\n");
    mountOverlay(base, persistEtc.resolve("upper"), persistEtc.resolve("work"), view);
    write(view, "hosts", "node\n");
    EtcMergeStatus r = merge().carry(Slot.A, Slot.B, "old");
    assertThat(r.note()).contains("shared /persist/etc/upper");
    assertThat(r.upperDir()).isNull();
    assertThat(persistEtc.resolve("B")).doesNotExist();
  }

  EtcMerge merge() {
    return new EtcMerge(
        new FixedViews(base, view, theirs),
        new EtcSlotDirs(persistEtc),
        tmp.resolve("state/etc-merge.json"),
        new EtcUpperWriter(commands),
        Clock.systemUTC());
  }

  /** Trees that are already there: the node's /etc is the test's overlay mount. */
  record FixedViews(Path base, Path ours, Path theirs) implements EtcMerge.Views {
    @Override
    public EtcMerge.Opened open(Slot from, Slot to) {
      return new EtcMerge.Opened(base, ours, theirs, () -> {});
    }
  }

  void mountOverlay(Path lower, Path upper, Path work, Path at) throws IOException {
    Files.createDirectories(upper);
    Files.createDirectories(work);
    run(
        "mount",
        "-t",
        "overlay",
        "-o",
        "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work,
        "kubeos-etc-test",
        at.toString());
    mounts.push(at);
  }

  void run(String... argv) throws IOException {
    CommandRunner.Result r = commands.run(List.of(argv), Duration.ofMinutes(1));
    assertThat(r.ok()).as(String.join(" ", argv) + ": " + r.output()).isTrue();
  }

  static void write(Path root, String rel, String content) throws IOException {
    Path p = root.resolve(rel);
    Files.createDirectories(p.getParent());
    Files.writeString(p, content, StandardCharsets.UTF_8);
  }

  static String read(Path root, String rel) throws IOException {
    return Files.readString(root.resolve(rel));
  }

  static boolean isWhiteout(Path p) throws IOException {
    return Files.readAttributes(p, java.nio.file.attribute.BasicFileAttributes.class, NOFOLLOW)
            .isOther()
        && ((Long) Files.getAttribute(p, "unix:rdev", NOFOLLOW)) == 0L;
  }
}
