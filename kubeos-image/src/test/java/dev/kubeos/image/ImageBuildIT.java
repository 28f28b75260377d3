package dev.kubeos.image;

import static dev.kubeos.image.TinyImage.debugfs;
import static dev.kubeos.image.TinyImage.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.agent.disk.DiskLayout;
import dev.kubeos.agent.disk.FileBlockDevice;
import dev.kubeos.agent.host.FreshDiskInit;
import dev.kubeos.agent.port.BlockDevice;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.api.agent.Slot;
import dev.kubeos.formats.chunk.ChunkIndex;
import dev.kubeos.formats.chunk.io.ChunkIndexFiles;
import dev.kubeos.image.build.BuildEvent;
import dev.kubeos.image.build.BuildResult;
import dev.kubeos.image.build.DiskInitializer;
import dev.kubeos.image.build.HostTools;
import dev.kubeos.image.build.ImageBuilder;
import dev.kubeos.image.plan.BuildPlan;
import dev.kubeos.image.plan.DiskGeometry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real build of a tiny tree (directory source): disk layout, file systems, env, payloads. */
class ImageBuildIT {
  @TempDir static Path dir;
  static BuildPlan plan;
  static BuildResult result;
  static final List<BuildEvent> events = new ArrayList<>();

  /** The agent's own first init, as kubeos-cli wires it. */
  static final DiskInitializer AGENT_INIT = new FreshDiskInit(Clock.systemUTC())::init;

  @BeforeAll
  static void build() throws Exception {
    Path config = TinyImage.config(dir, "1.0.0");
    plan = Images.plan(config, dir.resolve("out"), dir.resolve("cache"));
    result =
        new ImageBuilder(HostTools.system(), events::add, Clock.systemUTC(), AGENT_INIT)
            .build(plan);
  }

  long offset(String partition) {
    return plan.disk().partition(partition).offsetBytes();
  }

  @Test
  void theAgentAcceptsTheDiskLayout() throws Exception {
    try (BlockDevice disk = FileBlockDevice.open(result.disk(), false)) {
      DiskLayout layout = DiskLayout.read(disk, result.disk().toString());
      assertThat(layout.slotOffset(Slot.A)).isEqualTo(offset("ROOT-A"));
      assertThat(layout.slotSize(Slot.B)).isEqualTo(16L << 20);
      assertThat(layout.esp()).isPresent();
      assertThat(layout.persist()).isPresent();
      assertThat(layout.slot(Slot.A).uniqueGuid())
          .isEqualTo(plan.disk().partition("ROOT-A").partUuid());
    }
    assertThat(run("sgdisk", "-p", result.disk().toString()))
        .containsPattern("1\\s+2048\\s+34815.*EF00\\s+ESP")
        .contains("ROOT-A", "ROOT-B", "PERSIST");
  }

  @Test
  void espHoldsGrubTheContractsConfigAndEnvBlocks() throws Exception {
    Path esp = dir.resolve("esp-copy");
    Files.createDirectories(esp);
    String img = result.disk() + "@@" + offset("ESP");
    run("mcopy", "-s", "-i", img, "::/EFI", "::/kubeos", esp.toString());
    assertThat(Files.size(esp.resolve("EFI/BOOT/BOOTX64.EFI"))).isGreaterThan(100_000);
    assertThat(Files.readString(esp.resolve("EFI/BOOT/grub.cfg")))
        .contains("set kubeos_esp_uuid='" + plan.disk().espFsUuid() + "'")
        .contains("set kubeos_partuuid_b='" + plan.disk().partition("ROOT-B").partUuid() + "'")
        .contains("set kubeos_base_cmdline='console=ttyS0,115200'")
        .contains("panic=10 kubeos.slot=$kubeos_boot_slot");
    for (String copy : List.of("grubenv.0", "grubenv.1")) {
      assertThat(run("grub-editenv", esp.resolve("kubeos/" + copy).toString(), "list"))
          .contains("kubeos_default=A", "kubeos_trial=\n", "kubeos_seq_end=");
    }
    assertThat(run("grub-editenv", esp.resolve("kubeos/grubenv.boot").toString(), "list"))
        .isEmpty();
    assertThat(run("mdir", "-i", img, "::/")).contains("ESP", plan.disk().espFsUuid());
  }

  @Test
  void slotAHoldsTheVersionReadOnlyWithTheAgent() throws Exception {
    Path disk = result.disk();
    long a = offset("ROOT-A");
    assertThat(debugfs(disk, a, "cat /etc/os-release")).contains("PRETTY_NAME=\"KubeOS 1.0.0\"");
    assertThat(debugfs(disk, a, "cat /usr/lib/os-release")).contains("VERSION_ID=\"1.0.0\"");
    assertThat(debugfs(disk, a, "cat /etc/fstab")).containsPattern("/dev/root\\s+/\\s+ext4\\s+ro");
    assertThat(debugfs(disk, a, "stat /etc/machine-id")).contains("Size: 0");
    assertThat(debugfs(disk, a, "cat /usr/lib/kubeos/runtime/kubeos.jar")).contains("agent jar");
    // the node's own kubeos command, in the minimal profile too
    assertThat(debugfs(disk, a, "cat /usr/bin/kubeos"))
        .contains("exec /usr/lib/kubeos/runtime/bin/java -XX:+UseSerialGC")
        .contains(" -jar /usr/lib/kubeos/runtime/kubeos.jar \"$@\"");
    // minimal: no node files
    assertThat(debugfs(disk, a, "stat /usr/lib/kubeos/grow-persist")).contains("File not found");
    assertThat(debugfs(disk, a, "cat /usr/lib/systemd/system/kubeos-agent.service"))
        .contains("ExecStart=/usr/lib/kubeos/runtime/bin/java");
    assertThat(debugfs(disk, a, "cat /usr/lib/systemd/system/kubeos-agent.socket"))
        .contains("ListenStream=/run/os-agent/os-agent.sock");
    // socket-activated: the socket is enabled, the service only started on demand
    assertThat(debugfs(disk, a, "ls /etc/systemd/system/sockets.target.wants"))
        .contains("kubeos-agent.socket");
    assertThat(debugfs(disk, a, "ls /etc/systemd/system/multi-user.target.wants"))
        .contains("kubeos-health.service", "demo.service")
        .doesNotContain("kubeos-agent.service");
    assertThat(debugfs(disk, a, "stat /etc/systemd/system/multi-user.target.wants/demo.service"))
        .contains("/usr/lib/systemd/system/demo.service");
    assertThat(debugfs(disk, a, "cat /etc/initramfs-tools/scripts/init-bottom/kubeos-overlay"))
        .contains("lowerdir=${rootmnt}/etc,upperdir=$etc/upper", "kubeos-etc-layout: per-slot");
    assertThat(debugfs(disk, a, "cat /etc/shadow")).contains("root:$6$salt$roothash:", "ops:!:");
    assertThat(debugfs(disk, a, "cat /etc/group")).contains("wheel:x:10:ops", "ops:x:1001:");
    assertThat(debugfs(disk, a, "cat /etc/KubeOS/health.json")).contains("demo.service");
    assertThat(debugfs(disk, a, "cat /etc/KubeOS/settings-policy.json"))
        .contains("\"kernel.core_pattern\"", "\"/etc/persist.conf\"");
    assertThat(debugfs(disk, a, "cat /etc/KubeOS/trust/policy.json"))
        .contains("\"require_signatures\" : true", "\"release.pub\"");
    assertThat(debugfs(disk, a, "cat /etc/KubeOS/trust/release.pub"))
        .contains(Files.readString(dir.resolve("keys/release.pub")).trim());
    assertThat(run("dumpe2fs", "-h", disk + "?offset=" + a)).contains("volume name:   ROOT-A");
    // ROOT-B is left empty: no file system
    assertThat(DiskGeometry.SECTOR).isEqualTo(512);
    byte[] b = new byte[4096];
    try (var ch = java.nio.channels.FileChannel.open(disk)) {
      ch.read(java.nio.ByteBuffer.wrap(b), offset("ROOT-B"));
    }
    assertThat(b).containsOnly(0);
  }

  @Test
  void persistHoldsAgentStateOverlayDirsAndVar() throws Exception {
    long p = offset("PERSIST");
    assertThat(debugfs(result.disk(), p, "cat /kubeos/agent-state.json"))
        .contains("\"version\" : \"1.0.0\"", "\"state\" : \"VERIFIED\"", result.slotASha256());
    assertThat(debugfs(result.disk(), p, "ls /etc")).contains("upper", "work");
    assertThat(debugfs(result.disk(), p, "cat /var/lib/demo/state")).contains("kept on PERSIST");
  }

  @Test
  void payloadsHaveMatchingChecksums() throws Exception {
    assertThat(
            TinyImage.runIn(
                plan.outputDir(),
                "sha256sum",
                "-c",
                "rootfs-1.0.0.img.sha256",
                "rootfs-1.0.0.tar.sha256"))
        .contains("rootfs-1.0.0.img: OK", "rootfs-1.0.0.tar: OK");
    ChunkIndex index = ChunkIndexFiles.read(plan.outputDir().resolve("rootfs-1.0.0.img.chunkidx"));
    assertThat(index.imageName()).isEqualTo("rootfs-1.0.0.img");
    assertThat(index.imageSha256().hex()).isEqualTo(result.rootfsImageSha256());
    assertThat(index.imageSize()).isEqualTo(Files.size(result.rootfsImage()));
  }

  @Test
  void secondBuildTakesTheRootfsFromTheCache() throws Exception {
    assertThat(events)
        .noneMatch(e -> e.kind() == BuildEvent.Kind.CACHED)
        .filteredOn(e -> e.kind() == BuildEvent.Kind.DONE)
        .extracting(BuildEvent::step)
        .containsExactlyElementsOf(plan.steps());
    var cachedAt = Files.getLastModifiedTime(plan.cachedRootfs());
    List<BuildEvent> again = new ArrayList<>();
    BuildPlan second =
        Images.plan(dir.resolve("kubeos.toml"), dir.resolve("out2"), dir.resolve("cache"));
    assertThat(second.cacheKey()).isEqualTo(plan.cacheKey());
    BuildResult r =
        new ImageBuilder(HostTools.system(), again::add, Clock.systemUTC(), AGENT_INIT)
            .build(second);
    assertThat(again)
        .anyMatch(e -> e.step().equals("rootfs") && e.kind() == BuildEvent.Kind.CACHED);
    assertThat(r.rootfsFromCache()).isTrue();
    assertThat(Files.getLastModifiedTime(second.cachedRootfs())).isEqualTo(cachedAt);
    // a changed tree is a different key: rebuilt, not served stale
    Files.writeString(dir.resolve("tree/etc/extra"), "new");
    BuildPlan third =
        Images.plan(dir.resolve("kubeos.toml"), dir.resolve("out3"), dir.resolve("cache"));
    assertThat(third.cacheKey()).isNotEqualTo(plan.cacheKey());
    Files.delete(dir.resolve("tree/etc/extra"));
  }

  @Test
  void missingToolsAreListedWithTheirPackagesBeforeAnythingChanges() throws Exception {
    Path out = dir.resolve("never");
    BuildPlan p = Images.plan(dir.resolve("kubeos.toml"), out, dir.resolve("cache-never"));
    HostTools none =
        new HostTools(dir.resolve("empty-bin").toString(), dir.resolve("no-grub"), false);
    assertThatThrownBy(
            () -> new ImageBuilder(none, e -> {}, Clock.systemUTC(), AGENT_INIT).build(p))
        .isInstanceOf(AgentException.class)
        .hasMessageContaining("sgdisk (package gdisk)")
        .hasMessageContaining("mkfs.vfat (package dosfstools)")
        .hasMessageContaining("grub-efi-amd64-bin")
        .hasMessageContaining("apt-get install")
        .satisfies(
            e -> assertThat(((AgentException) e).code()).isEqualTo(ErrorCode.PRECONDITION_FAILED));
    assertThat(out).doesNotExist();
  }

  @Test
  void debootstrapSourceSaysItNeedsRoot() throws Exception {
    Path config = dir.resolve("deb.toml");
    Files.writeString(config, "version = \"1\"\n[agent]\nruntime = \"runtime\"\n");
    BuildPlan p = Images.plan(config, dir.resolve("deb-out"), dir.resolve("deb-cache"));
    HostTools notRoot = new HostTools(System.getenv("PATH"), HostTools.DEFAULT_GRUB_EFI_DIR, false);
    assertThatThrownBy(
            () -> new ImageBuilder(notRoot, e -> {}, Clock.systemUTC(), AGENT_INIT).build(p))
        .isInstanceOf(AgentException.class)
        .hasMessageContaining("needs root")
        .hasMessageContaining("sudo kubeos image build");
    assertThat(dir.resolve("deb-out")).doesNotExist();
  }
}
