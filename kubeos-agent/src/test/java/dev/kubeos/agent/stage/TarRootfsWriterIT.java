package dev.kubeos.agent.stage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.agent.host.ProcessCommandRunner;
import dev.kubeos.agent.payload.PayloadSources;
import dev.kubeos.agent.port.CommandRunner;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.oci.source.FetchOptions;
import dev.kubeos.testing.PayloadServer;
import dev.kubeos.testing.TestDisks;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TarRootfsWriterIT {
  private static final long MIB = 1 << 20;
  private static final long SLOT_OFFSET = 3 * MIB;
  private static final long SLOT_SIZE = 16 * MIB;
  private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;
  private static final FetchOptions INSECURE = FetchOptions.defaults().withInsecure(true);

  @TempDir Path tmp;
  private final CommandRunner runner = new ProcessCommandRunner();
  private final TarRootfsWriter writer = new TarRootfsWriter(runner);

  @AfterEach
  void unmountLeftovers() throws IOException {
    // what a failed test may have left mounted (a passing one leaves nothing: it asserts so)
    PrivateWorkDir.clear(tmp.resolve("work"), runner);
    PrivateWorkDir.clear(tmp.resolve("persist/work"), runner);
  }

  private static Sha256 sha(byte[] b) throws Exception {
    return Sha256.of(MessageDigest.getInstance("SHA-256").digest(b));
  }

  private Path disk() throws IOException {
    Path disk = tmp.resolve("disk.img");
    byte[] fill = new byte[(int) (SLOT_OFFSET + SLOT_SIZE + MIB)];
    Arrays.fill(fill, (byte) 0x5A);
    Files.write(disk, fill);
    return disk;
  }

  private static byte[] rootfs() throws IOException {
    return new Tars()
        .dir("./", 0755)
        .dir("./etc", 0755)
        .file("./etc/os-release", "NAME=KubeOS\nVERSION_ID=2.0\n", 0644)
        .dir("./usr/bin", 0755)
        .file("./usr/bin/su", "#!/bin/true\n", 04755)
        .hardlink("./usr/bin/su2", "./usr/bin/su")
        .symlink("./bin", "usr/bin")
        .file("./var/lib/data", new byte[300_000])
        .toGzip();
  }

  private String debugfs(Path fs, String request) throws IOException {
    CommandRunner.Result r =
        runner.run(List.of("debugfs", "-R", request, fs.toString()), Duration.ofSeconds(30));
    assertThat(r.ok()).as(r.output()).isTrue();
    return r.output();
  }

  /** Copies the slot region out of the disk (debugfs cannot open a file system at an offset). */
  private Path slotImage(Path disk) throws IOException {
    Path out = tmp.resolve("slot.img");
    try (RandomAccessFile f = new RandomAccessFile(disk.toFile(), "r")) {
      byte[] b = new byte[(int) SLOT_SIZE];
      f.seek(SLOT_OFFSET);
      f.readFully(b);
      Files.write(out, b);
    }
    return out;
  }

  @Test
  void stagesTarIntoExt4AtTheSlotOffset() throws Exception {
    byte[] tar = rootfs();
    Path disk = disk();
    Path work = tmp.resolve("work");
    StageResult r = stageOverHttp(tar, disk);
    assertThat(r.bytes()).isEqualTo(tar.length);
    assertThat(r.actual()).isEqualTo(sha(tar));
    assertThat(work).doesNotExist();
    byte[] all = Files.readAllBytes(disk);
    assertUnchanged(all, 0, (int) SLOT_OFFSET);
    assertUnchanged(all, (int) (SLOT_OFFSET + SLOT_SIZE), all.length);

    Path fs = slotImage(disk);
    CommandRunner.Result fsck =
        runner.run(List.of("e2fsck", "-fn", fs.toString()), Duration.ofSeconds(30));
    assertThat(fsck.ok()).as(fsck.output()).isTrue();
    CommandRunner.Result label =
        runner.run(List.of("e2label", fs.toString()), Duration.ofSeconds(10));
    assertThat(label.output().strip()).isEqualTo("ROOT-B");
    assertThat(debugfs(fs, "cat /etc/os-release")).contains("NAME=KubeOS", "VERSION_ID=2.0");
    assertThat(debugfs(fs, "stat /usr/bin/su")).contains("Mode:  04755", "Links: 2");
    assertThat(debugfs(fs, "stat /bin")).contains("Fast link dest: \"usr/bin\"");
    assertThat(debugfs(fs, "ls -l /var/lib")).contains("300000");
  }

  /**
   * On a node the disk is a block device whose other partitions are mounted (the booted slot,
   * PERSIST, the ESP): mkfs.ext4 with one {@code -F} refuses a whole disk that is in use
   * ("apparently in use by the system"), so a tar stage failed in every QEMU guest while it passed
   * on every file-backed disk. Here: a GPT disk on a loop device, its first partition mounted, the
   * slot the second. The new file system must then read right through the disk too, whose page
   * cache held the slot's old bytes. Needs root (losetup, mount); skipped otherwise.
   */
  @Test
  void stagesIntoTheInactiveSlotOfABlockDeviceWhoseOtherPartitionIsMounted() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        "0".equals(TestDisks.run("id", "-u").strip()), "needs root for losetup and mount");
    byte[] tar = rootfs();
    Path image = tmp.resolve("gpt.img");
    try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
      f.setLength(SLOT_OFFSET + SLOT_SIZE + MIB);
    }
    long firstSlotSector = SLOT_OFFSET / 512;
    long lastSlotSector = (SLOT_OFFSET + SLOT_SIZE) / 512 - 1;
    TestDisks.run(
        "sgdisk",
        "-o",
        "-n1:2048:" + (firstSlotSector - 1),
        "-n2:" + firstSlotSector + ":" + lastSlotSector,
        image.toString());
    String loop =
        TestDisks.run("losetup", "--find", "--show", "--partscan", image.toString()).strip();
    Path mnt = tmp.resolve("mnt");
    Files.createDirectories(mnt);
    boolean mounted = false;
    try {
      if (!Files.exists(Path.of(loop + "p1"))) {
        TestDisks.run("partx", "-a", loop);
      }
      TestDisks.run("mkfs.ext4", "-q", "-F", loop + "p1");
      TestDisks.run("mount", loop + "p1", mnt.toString());
      mounted = true;
      // the slot as an earlier stage left it, in the disk's page cache (a delta stage and its
      // read-back go through the disk, mkfs through the partition)
      assertThat(superblockMagicThroughTheDisk(Path.of(loop))).isNotEqualTo(EXT4_MAGIC);
      assertThat(stageOverHttp(tar, Path.of(loop)).actual()).isEqualTo(sha(tar));
      assertThat(superblockMagicThroughTheDisk(Path.of(loop)))
          .as("the new file system, read through the disk as the /etc merge mounts it")
          .isEqualTo(EXT4_MAGIC);
      assertThat(Files.readString(Path.of("/proc/self/mountinfo")))
          .as("the other partition stays mounted")
          .contains(mnt.toString());
      CommandRunner.Result fsck =
          runner.run(List.of("e2fsck", "-fn", loop + "p2"), Duration.ofSeconds(30));
      assertThat(fsck.ok()).as(fsck.output()).isTrue();
      assertThat(TestDisks.run("e2label", loop + "p2").strip()).isEqualTo("ROOT-B");
    } finally {
      if (mounted) {
        TestDisks.run("umount", mnt.toString());
      }
      runner.run(List.of("partx", "-d", loop), Duration.ofSeconds(30));
      TestDisks.run("losetup", "-d", loop);
    }
  }

  private static final int EXT4_MAGIC = 0xEF53;

  /** The slot's ext4 superblock magic (little-endian at byte 1080), read through the whole disk. */
  private static int superblockMagicThroughTheDisk(Path disk) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(disk.toFile(), "r")) {
      f.seek(SLOT_OFFSET + 1080);
      return f.read() | (f.read() << 8);
    }
  }

  /** Stages {@code tar} from a loopback HTTP server into slot ROOT-B of {@code disk}. */
  private StageResult stageOverHttp(byte[] tar, Path disk) throws Exception {
    try (PayloadServer server = PayloadServer.http()) {
      server.serve("/rootfs.tar.gz", tar);
      return writer.write(
          PayloadSources.open(server.url("/rootfs.tar.gz"), INSECURE),
          sha(tar),
          disk,
          SLOT_OFFSET,
          SLOT_SIZE,
          "ROOT-B",
          tmp.resolve("work"),
          (a, b) -> {});
    }
  }

  private static void assertUnchanged(byte[] all, int from, int to) {
    for (int i = from; i < to; i++) {
      if (all[i] != 0x5A) {
        throw new AssertionError("byte " + i + " outside the slot was modified");
      }
    }
  }

  @Test
  void wrongDigestLeavesTheDiskUntouched() throws Exception {
    byte[] tar = rootfs();
    Path disk = disk();
    Path src = Files.write(tmp.resolve("rootfs.tar.gz"), tar);
    Path work = tmp.resolve("work");
    Sha256 wrong = sha(new byte[] {42});
    assertThatThrownBy(
            () ->
                writer.write(
                    PayloadSources.open(src.toUri(), FetchOptions.defaults()),
                    wrong,
                    disk,
                    SLOT_OFFSET,
                    SLOT_SIZE,
                    "ROOT-B",
                    work,
                    (a, b) -> {}))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CHECKSUM_MISMATCH));
    assertUnchanged(Files.readAllBytes(disk), 0, (int) (SLOT_OFFSET + SLOT_SIZE + MIB));
    assertThat(work).doesNotExist();
  }

  @Test
  void unsafeTarLeavesTheDiskUntouchedAndCleansUp() throws Exception {
    byte[] tar =
        new Tars().dir("etc", 0755).file("etc/a", "a", 0644).symlink("x", "../../etc").toBytes();
    Path disk = disk();
    Path src = Files.write(tmp.resolve("evil.tar"), tar);
    Path work = tmp.resolve("work");
    assertThatThrownBy(
            () ->
                writer.write(
                    PayloadSources.open(src.toUri(), FetchOptions.defaults()),
                    sha(tar),
                    disk,
                    SLOT_OFFSET,
                    SLOT_SIZE,
                    "ROOT-B",
                    work,
                    (a, b) -> {}))
        .isInstanceOfSatisfying(
            AgentException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.PAYLOAD_INVALID);
              assertThat(e.getMessage()).contains("'x'");
            });
    assertUnchanged(Files.readAllBytes(disk), 0, (int) (SLOT_OFFSET + SLOT_SIZE + MIB));
    assertThat(work).doesNotExist();
  }

  @Test
  void mkfsFailureIsAnIoErrorWithTheToolOutput() throws Exception {
    byte[] big = new byte[1_000_000];
    new java.util.Random(1).nextBytes(big); // zeros would become holes
    byte[] tar = new Tars().file("big", big).toBytes();
    Path disk = disk();
    Path src = Files.write(tmp.resolve("big.tar"), tar);
    // 1 MiB is too small for the file plus ext4 metadata: mkfs.ext4 -d fails
    assertThatThrownBy(
            () ->
                writer.write(
                    PayloadSources.open(src.toUri(), FetchOptions.defaults()),
                    sha(tar),
                    disk,
                    SLOT_OFFSET,
                    MIB,
                    "ROOT-B",
                    tmp.resolve("work"),
                    (a, b) -> {}))
        .isInstanceOfSatisfying(
            AgentException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.IO_ERROR);
              assertThat(e.getMessage()).contains("mkfs.ext4").contains("exited with status");
            });
    assertThat(tmp.resolve("work")).doesNotExist();
  }

  /** Runs {@code argv} as user and group 65534 (nobody) with no supplementary groups. */
  private static Ran asNobody(String... argv) throws Exception {
    List<String> cmd =
        new ArrayList<>(
            List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"));
    cmd.addAll(List.of(argv));
    return Ran.run(cmd);
  }

  @Test
  void whileATarIsUnverifiedNothingExtractedIsReachableOrPrivileged() throws Exception {
    // a real executable, setuid root: run by nobody from a nosuid-less place it would get euid 0
    byte[] id = Files.readAllBytes(Path.of("/usr/bin/id"));
    byte[] tar =
        new Tars()
            .dir("./", 0755)
            .dir("./usr/bin", 0755)
            .file("./usr/bin/rootshell", id, 04755)
            .file("./etc/motd", "hello\n", 0644)
            .toBytes();
    Path disk = disk();
    // every directory above the work dir is open to all, as on PERSIST: only the work dir guards
    Files.setAttribute(tmp, "unix:mode", 0755);
    Path persist = Files.createDirectory(tmp.resolve("persist"));
    Files.setAttribute(persist, "unix:mode", 0755);
    assertThat(asNobody("stat", persist.toString()).exit()).isZero();
    Path work = persist.resolve("work");
    // the source hands out everything but the last 512 bytes (end-of-archive), then holds
    HeldSource src = new HeldSource(tar, tar.length - 512);
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<StageResult> staging =
          pool.submit(
              () ->
                  writer.write(
                      src,
                      sha(new byte[] {42}), // the tar is not what was signed
                      disk,
                      SLOT_OFFSET,
                      SLOT_SIZE,
                      "ROOT-B",
                      work,
                      (a, b) -> {}));
      assertThat(src.held.await(2, TimeUnit.MINUTES)).as("extraction reached the hold").isTrue();

      Path rootfs = work.resolve("rootfs");
      Path shell = rootfs.resolve("usr/bin/rootshell");
      // the hazard is really there: a root-owned setuid executable
      assertThat(Files.getAttribute(shell, "unix:uid", NOFOLLOW)).isEqualTo(0);
      assertThat((Integer) Files.getAttribute(shell, "unix:mode", NOFOLLOW) & 07777)
          .isEqualTo(04755);
      // ... but it sits on a nosuid,nodev,noexec mount inside a root-only directory
      assertThat(MountFacts.optionsAt(rootfs)).contains("nosuid", "nodev", "noexec");
      assertThat((Integer) Files.getAttribute(work, "unix:mode", NOFOLLOW) & 07777).isEqualTo(0700);
      assertThat(Files.getAttribute(work, "unix:uid", NOFOLLOW)).isEqualTo(0);
      // nobody cannot reach it, let alone run it
      Ran stat = asNobody("stat", shell.toString());
      assertThat(stat.exit()).as(stat.output()).isNotZero();
      assertThat(stat.output()).contains("Permission denied");
      Ran run = asNobody(shell.toString());
      assertThat(run.exit()).as(run.output()).isNotZero();
      assertThat(run.output()).doesNotContain("uid=");
      // not even root can execute it (noexec)
      Ran asRoot = Ran.run(List.of("sh", "-c", "exec \"$0\"", shell.toString()));
      assertThat(asRoot.exit()).as(asRoot.output()).isNotZero();
      assertThat(asRoot.output()).contains("Permission denied").doesNotContain("uid=");

      src.release.countDown();
      assertThatThrownBy(staging::get)
          .hasCauseInstanceOf(AgentException.class)
          .cause()
          .satisfies(
              e -> assertThat(((AgentException) e).code()).isEqualTo(ErrorCode.CHECKSUM_MISMATCH));
    } finally {
      src.release.countDown();
      pool.shutdown();
      assertThat(pool.awaitTermination(2, TimeUnit.MINUTES)).isTrue(); // the writer cleaned up
    }
    assertThat(work).doesNotExist();
    assertThat(MountFacts.anyAtOrBelow(work)).isFalse();
    assertUnchanged(Files.readAllBytes(disk), 0, (int) (SLOT_OFFSET + SLOT_SIZE + MIB));
  }

  @Test
  void aStageKilledWhileExtractingLeavesNothingTheNextOneTrips() throws Exception {
    // what a killed agent leaves: the work dir with its rootfs still mounted (twice, even)
    Path work = tmp.resolve("persist/work");
    Path rootfs = Files.createDirectories(work.resolve("rootfs"));
    Files.writeString(rootfs.resolve("half-written"), "x");
    for (int i = 0; i < 2; i++) {
      CommandRunner.Result m =
          runner.run(
              List.of("mount", "--bind", rootfs.toString(), rootfs.toString()),
              Duration.ofSeconds(30));
      assertThat(m.ok()).as(m.output()).isTrue();
    }
    PrivateWorkDir.clear(work, runner);
    assertThat(MountFacts.anyAtOrBelow(work)).isFalse();
    assertThat(work).doesNotExist();

    byte[] tar = rootfs();
    Path disk = disk();
    StageResult r =
        writer.write(
            PayloadSources.open(
                Files.write(tmp.resolve("rootfs.tar.gz"), tar).toUri(), FetchOptions.defaults()),
            sha(tar),
            disk,
            SLOT_OFFSET,
            SLOT_SIZE,
            "ROOT-B",
            work,
            (a, b) -> {});
    assertThat(r.actual()).isEqualTo(sha(tar));
    assertThat(work).doesNotExist();
    assertThat(MountFacts.anyAtOrBelow(work)).isFalse();
    assertThat(debugfs(slotImage(disk), "stat /usr/bin/su")).contains("Mode:  04755");
  }

  /** A finished child process: exit status and combined output. */
  private record Ran(int exit, String output) {
    static Ran run(List<String> argv) throws Exception {
      Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      return new Ran(p.waitFor(), out);
    }
  }
}
