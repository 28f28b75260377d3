package dev.kubeos.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.agent.host.AgentOptions;
import dev.kubeos.agent.host.FileOperationLock;
import dev.kubeos.agent.host.HostAgents;
import dev.kubeos.agent.port.OperationLock;
import dev.kubeos.agent.stage.ProgressListener;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.AgentStatus;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.api.agent.Slot;
import dev.kubeos.api.agent.SlotState;
import dev.kubeos.oci.source.FetchOptions;
import dev.kubeos.testing.PayloadServer;
import dev.kubeos.testing.TestDisks;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent wired to the real host parts: a sgdisk-made GPT image file, ext4 file systems from
 * mkfs.ext4, GRUB env files checked with grub-editenv, a loopback HTTP server.
 */
class AgentFileIT {
  @TempDir Path dir;
  Path disk;
  Path bootDir;
  Path stateDir;
  PayloadServer server;
  byte[] v2;

  @BeforeEach
  void node() throws IOException {
    disk = TestDisks.create(dir.resolve("disk.img"), 2, 32, 8);
    Path v1Tree = tree("v1");
    TestDisks.mkfsExt4(disk, TestDisks.partition(disk, "ROOT-A"), v1Tree, "ROOT-A");
    Path v2Image = dir.resolve("v2.img");
    TestDisks.run("mkfs.ext4", "-q", "-F", "-d", tree("v2").toString(), v2Image.toString(), "16M");
    v2 = Files.readAllBytes(v2Image);
    bootDir = dir.resolve("esp");
    stateDir = dir.resolve("persist/kubeos");
    server = PayloadServer.http().serve("/v2.img", v2);
    agent(Slot.A).init("v1", null);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  Agent agent(Slot booted) {
    return HostAgents.create(
        new AgentOptions(
            disk, bootDir, stateDir, booted, dir.resolve("no-health.json"), dir.resolve("certs")),
        Clock.systemUTC());
  }

  StageRequest http(String path, String sha, String version, StageRequest.Format format) {
    return new StageRequest(
        server.url(path), sha, version, format, FetchOptions.defaults().withInsecure(true));
  }

  @Test
  void stagesOverHttpActivatesAndGrubEditenvSeesTheTrial() throws IOException {
    agent(Slot.A)
        .stage(
            http("/v2.img", SimulatedNode.sha256(v2), "v2", StageRequest.Format.RAW),
            ProgressListener.NONE);
    AgentStatus s = agent(Slot.A).activate();
    assertThat(s.nextBootSlot()).isEqualTo(Slot.B);
    assertThat(s.slots().get(Slot.B).sha256()).isEqualTo(SimulatedNode.sha256(v2));
    assertThat(slotBytesDigest(Slot.B, v2.length)).isEqualTo(SimulatedNode.sha256(v2));
    // the newest env copy, as GRUB's own tool reads it
    String listed = newestCopyListing();
    assertThat(listed).contains("kubeos_default=A", "kubeos_trial=B");
    assertThat(TestDisks.debugfs(disk, TestDisks.partition(disk, "ROOT-B"), "cat /etc/os-release"))
        .contains("KubeOS v2");
    assertThat(Files.readString(stateDir.resolve("agent-state.json")))
        .contains("\"v2\"", "VERIFIED");
  }

  @Test
  void resumesAnInterruptedDownloadWithARangeRequest() {
    server.cutAfter("/v2.img", v2.length / 3, false);
    agent(Slot.A)
        .stage(
            http("/v2.img", SimulatedNode.sha256(v2), "v2", StageRequest.Format.RAW),
            ProgressListener.NONE);
    assertThat(server.requests("/v2.img"))
        .anySatisfy(r -> assertThat(r.range()).startsWith("bytes="));
    assertThat(agent(Slot.A).status().slots().get(Slot.B).state()).isEqualTo(SlotState.VERIFIED);
  }

  @Test
  void httpErrorsAndAbortedDownloadsLeaveTheBootStateAlone() throws IOException {
    byte[] env0 = Files.readAllBytes(bootDir.resolve("kubeos/grubenv.0"));
    byte[] env1 = Files.readAllBytes(bootDir.resolve("kubeos/grubenv.1"));
    server.failWith("/missing.img", 404).failWith("/broken.img", 500);
    assertThatThrownBy(
            () ->
                agent(Slot.A)
                    .stage(
                        http(
                            "/missing.img",
                            SimulatedNode.sha256(v2),
                            "v2",
                            StageRequest.Format.RAW),
                        ProgressListener.NONE))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.DOWNLOAD_FAILED))
        .hasMessageContaining("404");
    assertThatThrownBy(
            () ->
                agent(Slot.A)
                    .stage(
                        http(
                            "/broken.img", SimulatedNode.sha256(v2), "v2", StageRequest.Format.RAW),
                        ProgressListener.NONE))
        .hasMessageContaining("500");
    assertThat(agent(Slot.A).status().slots().get(Slot.B).state()).isEqualTo(SlotState.EMPTY);

    server.serve("/cut.img", v2).ignoreRanges("/cut.img").cutAfter("/cut.img", v2.length / 2, true);
    assertThatThrownBy(
            () ->
                agent(Slot.A)
                    .stage(
                        http("/cut.img", SimulatedNode.sha256(v2), "v2", StageRequest.Format.RAW),
                        ProgressListener.NONE))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.DOWNLOAD_FAILED));
    AgentStatus s = agent(Slot.A).status();
    assertThat(s.slots().get(Slot.B).state()).isEqualTo(SlotState.EMPTY);
    assertThat(s.nextBootSlot()).isEqualTo(Slot.A);
    assertThat(Files.readAllBytes(bootDir.resolve("kubeos/grubenv.0"))).isEqualTo(env0);
    assertThat(Files.readAllBytes(bootDir.resolve("kubeos/grubenv.1"))).isEqualTo(env1);
    assertThatThrownBy(() -> agent(Slot.A).activate()).hasMessageContaining("nothing verified");
  }

  @Test
  void plainHttpNeedsInsecure() {
    StageRequest r =
        new StageRequest(
            server.url("/v2.img"),
            SimulatedNode.sha256(v2),
            "v2",
            StageRequest.Format.RAW,
            FetchOptions.defaults());
    assertThatThrownBy(() -> agent(Slot.A).stage(r, ProgressListener.NONE))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST))
        .hasMessageContaining("http://");
  }

  @Test
  void stagesARootfsTarIntoANewExt4FileSystem() throws IOException {
    byte[] tar = tar(List.of("./etc/", "./etc/os-release"), "PRETTY_NAME=\"KubeOS v3\"\n");
    server.serve("/v3.tar", tar);
    agent(Slot.A)
        .stage(
            http("/v3.tar", SimulatedNode.sha256(tar), "v3", StageRequest.Format.TAR),
            ProgressListener.NONE);
    assertThat(TestDisks.debugfs(disk, TestDisks.partition(disk, "ROOT-B"), "cat /etc/os-release"))
        .contains("KubeOS v3");
    assertThat(agent(Slot.A).status().slots().get(Slot.B).version()).isEqualTo("v3");
    assertThat(stateDir.resolve("work")).doesNotExist();
  }

  @Test
  void aTarWithTheWrongDigestLeavesNothingUsableAndTheSlotUnverified() throws IOException {
    byte[] tar = tar(List.of("./etc/", "./etc/os-release"), "PRETTY_NAME=\"KubeOS evil\"\n");
    server.serve("/v3.tar", tar);
    String slotBefore = slotBytesDigest(Slot.B, 32 << 20);
    assertThatThrownBy(
            () ->
                agent(Slot.A)
                    .stage(
                        http(
                            "/v3.tar",
                            SimulatedNode.sha256("other".getBytes(StandardCharsets.UTF_8)),
                            "v3",
                            StageRequest.Format.TAR),
                        ProgressListener.NONE))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CHECKSUM_MISMATCH));
    AgentStatus s = agent(Slot.A).status();
    assertThat(s.slots().get(Slot.B).state()).isEqualTo(SlotState.EMPTY);
    assertThat(s.nextBootSlot()).isEqualTo(Slot.A);
    assertThatThrownBy(() -> agent(Slot.A).activate()).hasMessageContaining("nothing verified");
    // the extracted tree is gone, its mount too, and the slot was never written
    assertThat(stateDir.resolve("work")).doesNotExist();
    assertThat(Files.readAllLines(Path.of("/proc/self/mountinfo")))
        .noneMatch(l -> l.split(" ")[4].startsWith(stateDir.toString()));
    assertThat(slotBytesDigest(Slot.B, 32 << 20)).isEqualTo(slotBefore);
  }

  @Test
  void anUnsafeTarIsRefusedBeforeTheSlotIsTouched() throws IOException {
    agent(Slot.A)
        .stage(
            http("/v2.img", SimulatedNode.sha256(v2), "v2", StageRequest.Format.RAW),
            ProgressListener.NONE);
    byte[] evil = tar(List.of("./etc/", "../../escape"), "x");
    server.serve("/evil.tar", evil);
    assertThatThrownBy(
            () ->
                agent(Slot.A)
                    .stage(
                        http(
                            "/evil.tar", SimulatedNode.sha256(evil), "v3", StageRequest.Format.TAR),
                        ProgressListener.NONE))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.PAYLOAD_INVALID))
        .hasMessageContaining("../../escape");
    // slot B still holds verified v2, untouched
    assertThat(agent(Slot.A).status().slots().get(Slot.B).version()).isEqualTo("v2");
    assertThat(slotBytesDigest(Slot.B, v2.length)).isEqualTo(SimulatedNode.sha256(v2));
  }

  @Test
  void aSecondOperationIsBusyAndNamesTheFirst() {
    FileOperationLock other = new FileOperationLock(stateDir, Clock.systemUTC());
    try (OperationLock.Held held = other.acquire("stage v9")) {
      assertThatThrownBy(() -> agent(Slot.A).activate())
          .isInstanceOfSatisfying(
              AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.BUSY))
          .hasMessageContaining("stage v9");
    }
    assertThat(agent(Slot.A).status().bootedSlot()).isEqualTo(Slot.A);
  }

  @Test
  void disksThatBreakTheBootContractAreRefused() throws IOException {
    Path blank = dir.resolve("blank.img");
    Files.write(blank, new byte[4 << 20]);
    assertThatThrownBy(() -> new AgentOptionsAgent(blank).status())
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.DISK_LAYOUT));
    Path noB =
        TestDisks.create(
            dir.resolve("nob.img"),
            List.of(
                new TestDisks.Spec("ESP", "EF00", 1, null),
                new TestDisks.Spec("ROOT-A", "8304", 4, null)));
    assertThatThrownBy(() -> new AgentOptionsAgent(noB).init())
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.DISK_LAYOUT))
        .hasMessageContaining("ROOT-B");
  }

  /** An agent on another disk with fresh boot/state dirs. */
  private final class AgentOptionsAgent {
    final Agent agent;

    AgentOptionsAgent(Path otherDisk) {
      Path d = dir.resolve("other-" + otherDisk.getFileName());
      agent =
          HostAgents.create(
              new AgentOptions(otherDisk, d.resolve("esp"), d.resolve("state"), Slot.A, null, null),
              Clock.systemUTC());
    }

    AgentStatus status() {
      agent.init("v1", null);
      return agent.status();
    }

    AgentStatus init() {
      return agent.init("v1", null);
    }
  }

  private String newestCopyListing() {
    String a =
        TestDisks.run("grub-editenv", bootDir.resolve("kubeos/grubenv.0").toString(), "list");
    String b =
        TestDisks.run("grub-editenv", bootDir.resolve("kubeos/grubenv.1").toString(), "list");
    return seq(a) > seq(b) ? a : b;
  }

  private static long seq(String listing) {
    return listing
        .lines()
        .filter(l -> l.startsWith("kubeos_seq="))
        .mapToLong(l -> Long.parseLong(l.substring(11)))
        .findFirst()
        .orElse(-1);
  }

  private String slotBytesDigest(Slot slot, int length) throws IOException {
    TestDisks.Part p = TestDisks.partition(disk, slot.partitionName());
    byte[] all = Files.readAllBytes(disk);
    byte[] part =
        java.util.Arrays.copyOfRange(all, (int) p.offsetBytes(), (int) p.offsetBytes() + length);
    return SimulatedNode.sha256(part);
  }

  private Path tree(String version) throws IOException {
    Path t = dir.resolve("tree-" + version);
    Files.createDirectories(t.resolve("etc"));
    Files.writeString(t.resolve("etc/os-release"), "PRETTY_NAME=\"KubeOS " + version + "\"\n");
    return t;
  }

  private static byte[] tar(List<String> names, String content) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (TarArchiveOutputStream out = new TarArchiveOutputStream(bytes)) {
      for (String name : names) {
        TarArchiveEntry e = new TarArchiveEntry(name);
        byte[] data = name.endsWith("/") ? new byte[0] : content.getBytes(StandardCharsets.UTF_8);
        e.setSize(data.length);
        e.setMode(name.endsWith("/") ? 040755 : 0100644);
        out.putArchiveEntry(e);
        out.write(data);
        out.closeArchiveEntry();
      }
    }
    return bytes.toByteArray();
  }
}
