package dev.kubeos.agent.etc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kubeos.agent.host.FileDiskOpener;
import dev.kubeos.agent.host.ProcessCommandRunner;
import dev.kubeos.api.agent.Slot;
import dev.kubeos.testing.TestDisks;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node-side mounts of the /etc merge (needs root): the running root through a read-only bind
 * (without what is mounted on it, like the /etc overlay) and the target slot read-only from a real
 * GPT disk image at its partition's offset; both are gone after close.
 */
class HostEtcViewsIT {
  @TempDir Path tmp;
  Path disk;
  Path runningRoot;
  Path runDir;

  @BeforeEach
  void node() throws IOException {
    assumeTrue("root".equals(System.getProperty("user.name")), "needs root (mount)");
    disk = TestDisks.create(tmp.resolve("disk.img"), 1, 8, 1);
    Path slotB = tmp.resolve("slot-b");
    Files.createDirectories(slotB.resolve("etc"));
    Files.writeString(slotB.resolve("etc/hosts"), "version 2\n");
    TestDisks.mkfsExt4(disk, TestDisks.partition(disk, "ROOT-B"), slotB, "ROOT-B");
    runningRoot = tmp.resolve("running-root");
    Files.createDirectories(runningRoot.resolve("etc"));
    Files.writeString(runningRoot.resolve("etc/hosts"), "version 1\n");
    runDir = tmp.resolve("run");
  }

  @Test
  void baseIsTheRunningRootsOwnEtcAndTheirsTheTargetSlotsBothReadOnly() throws IOException {
    // something mounted on the running root's /etc (the overlay on a node) is not in base
    Path covering = Files.createDirectories(tmp.resolve("covering"));
    Files.writeString(covering.resolve("hosts"), "the node's view\n");
    TestDisks.run("mount", "--bind", covering.toString(), runningRoot.resolve("etc").toString());
    HostEtcViews views =
        new HostEtcViews(
            new ProcessCommandRunner(),
            new FileDiskOpener(disk),
            runningRoot,
            runDir,
            runningRoot.resolve("etc"));
    try (EtcMerge.Opened v = views.open(Slot.A, Slot.B)) {
      assertThat(Files.readString(v.base().resolve("hosts"))).isEqualTo("version 1\n");
      assertThat(Files.readString(v.ours().resolve("hosts"))).isEqualTo("the node's view\n");
      assertThat(Files.readString(v.theirs().resolve("hosts"))).isEqualTo("version 2\n");
      assertThatThrownBy(() -> Files.writeString(v.base().resolve("x"), "x"))
          .isInstanceOf(IOException.class);
      assertThatThrownBy(() -> Files.writeString(v.theirs().resolve("x"), "x"))
          .isInstanceOf(IOException.class);
    } finally {
      TestDisks.run("umount", runningRoot.resolve("etc").toString());
    }
    assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(runDir.toString());
  }

  @Test
  void aSlotWithoutAFileSystemFailsAndLeavesNothingMounted() {
    HostEtcViews views =
        new HostEtcViews(
            new ProcessCommandRunner(),
            new FileDiskOpener(disk),
            runningRoot,
            runDir,
            runningRoot.resolve("etc"));
    assertThatThrownBy(() -> views.open(Slot.B, Slot.A)).hasMessageContaining("mount");
    assertThat(mountinfo()).doesNotContain(runDir.toString());
  }

  @Test
  void aKubeOsNodeIsRecognisedByTheOverlayOnEtc() {
    String node =
        "29 1 259:2 / / ro,relatime shared:1 - ext4 /dev/vda2 ro\n"
            + "30 29 0:27 / /etc rw,relatime shared:2 - overlay kubeos-etc rw,lowerdir=/root/etc\n";
    String other = "29 1 259:2 / / rw,relatime shared:1 - ext4 /dev/vda2 rw\n";
    assertThat(HostEtcViews.etcIsOverlay(node)).isTrue();
    assertThat(HostEtcViews.etcIsOverlay(other)).isFalse();
  }

  static String mountinfo() {
    try {
      return Files.readString(Path.of("/proc/self/mountinfo"));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
