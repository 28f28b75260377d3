package dev.kubeos.agent.stage;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class MountTableTest {
  private static final String MOUNTINFO =
      "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
          + "45 22 254:0 /persist/work/rootfs /persist/work/rootfs rw,nosuid,nodev,noexec,relatime"
          + " shared:1 - ext4 /dev/vda rw\n"
          + "46 45 254:0 /persist/work/rootfs /persist/work/rootfs rw,relatime shared:1 - ext4"
          + " /dev/vda rw\n"
          + "47 22 0:40 / /mnt/with\\040space rw,nosuid - tmpfs tmpfs rw\n"
          + "48 22 0:41 / /persist/work2 rw - tmpfs tmpfs rw\n";

  @Test
  void theTopmostMountAtAPathWins() {
    List<MountTable.Mount> mounts = MountTable.parse(MOUNTINFO);
    assertThat(mounts).hasSize(5);
    assertThat(MountTable.at(mounts, Path.of("/persist/work/rootfs")).options())
        .contains("rw", "relatime")
        .doesNotContain("nosuid");
    assertThat(MountTable.at(mounts, Path.of("/persist/work"))).isNull();
  }

  @Test
  void octalEscapesAreUndone() {
    List<MountTable.Mount> mounts = MountTable.parse(MOUNTINFO);
    assertThat(MountTable.at(mounts, Path.of("/mnt/with space")).options()).contains("nosuid");
    assertThat(MountTable.unescape("a\\134b\\011c\\12")).isEqualTo("a\\b\tc\\12");
  }

  @Test
  void mountsUnderADirectoryNewestFirstAndNotItsSiblings() {
    assertThat(MountTable.under(MountTable.parse(MOUNTINFO), Path.of("/persist/work")))
        .containsExactly("/persist/work/rootfs", "/persist/work/rootfs");
  }
}
