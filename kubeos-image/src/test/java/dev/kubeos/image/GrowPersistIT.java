package dev.kubeos.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kubeos.image.plan.DiskGeometry;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node image's first-boot growth of PERSIST, on a real GPT disk image with the builder's layout
 * attached to a loop device: the image file is grown as a larger VM disk would be, PERSIST is
 * mounted (as on the node), and the very script kubeos-grow-persist.service runs grows the
 * partition and its ext4 online. Needs root (losetup, mount); skipped otherwise.
 */
class GrowPersistIT {
  @TempDir Path dir;
  private String loop;
  private Path mnt;

  @AfterEach
  void detach() throws Exception {
    if (mnt != null) {
      new ProcessBuilder("umount", mnt.toString()).inheritIO().start().waitFor();
    }
    if (loop != null) {
      new ProcessBuilder("partx", "-d", loop).inheritIO().start().waitFor();
      new ProcessBuilder("losetup", "-d", loop).inheritIO().start().waitFor();
    }
  }

  /** Offline: PERSIST not mounted (the script checks and grows the file system itself). */
  @Test
  void persistGrowsToTheEndOfALargerDiskAndTheSecondRunChangesNothing() throws Exception {
    assumeTrue(root(), "needs root for losetup");
    grow(false);
  }

  /**
   * Online, as on the node: PERSIST mounted, ext4 grown while mounted. Online resize needs
   * CAP_SYS_RESOURCE, which a container may lack; the node's systemd service has it.
   */
  @Test
  void mountedPersistGrowsOnline() throws Exception {
    assumeTrue(root(), "needs root for losetup and mount");
    assumeTrue(capSysResource(), "online ext4 resize needs CAP_SYS_RESOURCE");
    grow(true);
  }

  private void grow(boolean mounted) throws Exception {
    DiskGeometry geo = DiskGeometry.layout("grow", 8, 8, 16);
    Path disk = dir.resolve("disk.img");
    try (RandomAccessFile f = new RandomAccessFile(disk.toFile(), "rw")) {
      f.setLength(geo.sizeBytes());
    }
    List<String> sgdisk = new ArrayList<>(List.of("sgdisk", "-o"));
    for (DiskGeometry.Partition p : geo.partitions()) {
      sgdisk.addAll(
          List.of(
              "-n" + p.number() + ":" + p.firstSector() + ":" + p.lastSector(),
              "-t" + p.number() + ":" + p.typeCode(),
              "-c" + p.number() + ":" + p.name()));
    }
    sgdisk.add(disk.toString());
    TinyImage.run(sgdisk.toArray(String[]::new));
    DiskGeometry.Partition persist = geo.partition("PERSIST");
    TinyImage.run(
        "mkfs.ext4",
        "-q",
        "-F",
        "-L",
        "PERSIST",
        "-E",
        "offset=" + persist.offsetBytes(),
        disk.toString(),
        (persist.sizeBytes() / 1024) + "k");
    Files.writeString(dir.resolve("marker"), "kept");
    TinyImage.run(
        "debugfs",
        "-w",
        "-R",
        "write " + dir.resolve("marker") + " marker",
        disk + "?offset=" + persist.offsetBytes());
    // the operator gives the VM a 128 MiB larger disk
    try (RandomAccessFile f = new RandomAccessFile(disk.toFile(), "rw")) {
      f.setLength(geo.sizeBytes() + (128L << 20));
    }
    loop = TinyImage.run("losetup", "--show", "-f", "-P", disk.toString()).strip();
    String part = loop + "p4";
    if (!Files.exists(Path.of(part))) {
      TinyImage.run("partx", "-a", loop); // where the loop driver does not scan by itself
    }
    assertThat(Path.of(part)).exists();
    if (mounted) {
      mnt = Files.createDirectories(dir.resolve("persist"));
      TinyImage.run("mount", part, mnt.toString());
    }

    Path script = dir.resolve("grow-persist");
    try (InputStream in = getClass().getResourceAsStream("/dev/kubeos/image/node/grow-persist")) {
      Files.write(script, in.readAllBytes());
    }
    String out = TinyImage.run("sh", script.toString(), part);
    assertThat(out).contains("growing " + part + " (partition 4 of " + loop + ") by 128 MiB");

    long sectors = Long.parseLong(sys(part, "size"));
    long start = Long.parseLong(sys(part, "start"));
    long total = Long.parseLong(sys(loop, "size"));
    assertThat(start).isEqualTo(persist.firstSector());
    // the partition now ends where the backup GPT begins
    assertThat(total - (start + sectors)).isBetween(33L, 2048L);
    assertThat(sectors).isGreaterThan(persist.sectors() + (127L << 11));
    // the file system grew with it and kept its content
    if (mounted) {
      assertThat(Files.getFileStore(mnt).getTotalSpace()).isGreaterThan(120L << 20);
      assertThat(Files.readString(mnt.resolve("marker"))).isEqualTo("kept");
    } else {
      String head = TinyImage.run("dumpe2fs", "-h", part);
      long blocks = field(head, "Block count:");
      long blockSize = field(head, "Block size:");
      assertThat(blocks * blockSize).isGreaterThan(persist.sizeBytes() + (120L << 20));
      assertThat(TinyImage.run("debugfs", "-R", "cat marker", part)).contains("kept");
    }
    // the GPT is consistent, its backup at the (new) end of the disk
    assertThat(TinyImage.run("sgdisk", "-v", loop)).contains("No problems found");
    assertThat(TinyImage.run("sgdisk", "-i", "4", loop)).contains("Partition name: 'PERSIST'");
    // the next boot: nothing to do
    assertThat(TinyImage.run("sh", script.toString(), part)).contains("already fills");
    assertThat(Long.parseLong(sys(part, "size"))).isEqualTo(sectors);
  }

  private static long field(String dumpe2fs, String name) {
    return dumpe2fs
        .lines()
        .filter(l -> l.startsWith(name))
        .map(l -> Long.parseLong(l.substring(name.length()).strip()))
        .findFirst()
        .orElseThrow();
  }

  private static boolean root() throws Exception {
    return "0".equals(TinyImage.run("id", "-u").strip());
  }

  private static boolean capSysResource() throws IOException {
    String eff =
        Files.readAllLines(Path.of("/proc/self/status")).stream()
            .filter(l -> l.startsWith("CapEff:"))
            .findFirst()
            .orElse("CapEff: 0")
            .substring(7)
            .strip();
    return (Long.parseUnsignedLong(eff, 16) & (1L << 24)) != 0; // CAP_SYS_RESOURCE
  }

  private static String sys(String dev, String attr) throws IOException {
    return Files.readString(
            Path.of("/sys/class/block", Path.of(dev).getFileName().toString(), attr))
        .strip();
  }
}
