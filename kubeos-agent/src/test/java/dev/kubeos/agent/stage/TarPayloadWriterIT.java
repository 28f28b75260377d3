package dev.kubeos.agent.stage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.agent.disk.DiskLayout;
import dev.kubeos.agent.host.FileDiskOpener;
import dev.kubeos.agent.host.ProcessCommandRunner;
import dev.kubeos.agent.port.BlockDevice;
import dev.kubeos.agent.port.CommandRunner;
import dev.kubeos.agent.port.TarPayload;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.api.agent.Slot;
import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.testing.TestDisks;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tar writer as the agent wires it for rootfs tarballs and for an image's {@code /os.tar}
 * ({@link TarPayloadWriter#layOut}, which {@link RegistryImageWriter} calls with the image's
 * payload): on a real GPT disk image, with the slot's first-write hook counted.
 */
class TarPayloadWriterIT {
  @TempDir Path dir;
  private final CommandRunner runner = new ProcessCommandRunner();
  private final AtomicInteger firstWrites = new AtomicInteger();
  private Path disk;
  private Path work;
  private BlockDevice device;
  private TargetSlot slot;

  @BeforeEach
  void node() throws Exception {
    disk = TestDisks.create(dir.resolve("disk.img"), 2, 32, 8);
    work = dir.resolve("persist/kubeos/work");
    FileDiskOpener opener = new FileDiskOpener(disk);
    device = opener.open(true);
    slot =
        new TargetSlot(
            "v2",
            device,
            DiskLayout.read(device, opener.name()),
            Slot.B,
            Slot.A,
            firstWrites::incrementAndGet,
            ProgressListener.NONE);
  }

  @AfterEach
  void close() throws Exception {
    device.close();
    PrivateWorkDir.clear(work, runner); // whatever a failed test left mounted
  }

  private TarPayloadWriter writer() {
    return new TarPayloadWriter(new FileDiskOpener(disk), runner, work);
  }

  private static Sha256 sha(byte[] b) throws Exception {
    return Sha256.of(MessageDigest.getInstance("SHA-256").digest(b));
  }

  private static byte[] rootfs() throws Exception {
    return new Tars()
        .dir("./", 0755)
        .dir("./usr/bin", 0755)
        .file("./usr/bin/su", Files.readAllBytes(Path.of("/usr/bin/id")), 04755)
        .file("./etc/os-release", "VERSION_ID=2\n", 0644)
        .toBytes();
  }

  @Test
  void anUnverifiedTreeIsPrivateAndTheSlotUntouchedUntilTheDigestMatches() throws Exception {
    byte[] tar = rootfs();
    HeldSource src = new HeldSource(tar, tar.length - 512);
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try (TarPayload payload = TarRootfsWriter.digested(src, sha(new byte[] {1}))) {
      Future<StageResult> staging = pool.submit(() -> writer().layOut(payload, slot));
      assertThat(src.held.await(2, TimeUnit.MINUTES)).as("extraction reached the hold").isTrue();

      assertThat(Files.getAttribute(work.resolve("rootfs/usr/bin/su"), "unix:mode"))
          .matches(m -> ((Integer) m & 07777) == 04755);
      assertThat(MountFacts.optionsAt(work.resolve("rootfs")))
          .contains("nosuid", "nodev", "noexec");
      assertThat((Integer) Files.getAttribute(work, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 0777)
          .isEqualTo(0700);
      // mounting the work dir is no write to the slot: the node's records are not touched yet
      assertThat(firstWrites).hasValue(0);

      src.release.countDown();
      assertThatThrownBy(staging::get)
          .cause()
          .isInstanceOfSatisfying(
              AgentException.class,
              e -> assertThat(e.code()).isEqualTo(ErrorCode.CHECKSUM_MISMATCH));
    } finally {
      src.release.countDown();
      pool.shutdown();
      assertThat(pool.awaitTermination(2, TimeUnit.MINUTES)).isTrue(); // the writer cleaned up
    }
    assertThat(firstWrites).hasValue(0);
    assertThat(work).doesNotExist();
    assertThat(MountFacts.anyAtOrBelow(dir)).isFalse();
  }

  @Test
  void aMountLeftByAKilledStageIsClearedAndTheVerifiedTreeReachesTheSlot() throws Exception {
    Path stale = Files.createDirectories(work.resolve("rootfs"));
    CommandRunner.Result m =
        runner.run(
            List.of("mount", "--bind", stale.toString(), stale.toString()), Duration.ofMinutes(1));
    assertThat(m.ok()).as(m.output()).isTrue();
    Files.writeString(stale.resolve("half"), "x");

    byte[] tar = rootfs();
    HeldSource src = new HeldSource(tar, tar.length);
    src.release.countDown(); // never holds
    try (TarPayload payload = TarRootfsWriter.digested(src, sha(tar))) {
      StageResult r = writer().layOut(payload, slot);
      assertThat(r.actual()).isEqualTo(sha(tar));
    }
    assertThat(firstWrites).hasValue(1);
    assertThat(work).doesNotExist();
    assertThat(MountFacts.anyAtOrBelow(dir)).isFalse();
    TestDisks.Part b = TestDisks.partition(disk, "ROOT-B");
    assertThat(TestDisks.debugfs(disk, b, "stat /usr/bin/su")).contains("Mode:  04755");
    assertThat(TestDisks.debugfs(disk, b, "cat /etc/os-release")).contains("VERSION_ID=2");
    assertThat(TestDisks.debugfs(disk, b, "ls /")).doesNotContain("half");
  }
}
