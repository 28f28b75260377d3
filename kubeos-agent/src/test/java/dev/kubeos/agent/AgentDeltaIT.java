package dev.kubeos.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.agent.delta.DeltaEstimate;
import dev.kubeos.agent.delta.DeltaTestImages;
import dev.kubeos.agent.host.AgentOptions;
import dev.kubeos.agent.host.HostAgents;
import dev.kubeos.agent.stage.ProgressListener;
import dev.kubeos.agent.stage.StageResult;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.AgentStatus;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.api.agent.Slot;
import dev.kubeos.api.agent.SlotState;
import dev.kubeos.api.agent.SlotStatus;
import dev.kubeos.formats.chunk.ChunkerParams;
import dev.kubeos.formats.chunk.io.ChunkIndexFiles;
import dev.kubeos.oci.source.FetchOptions;
import dev.kubeos.testing.PayloadServer;
import dev.kubeos.testing.TestDisks;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Delta staging against real parts: two ext4 images made by mkfs.ext4 -d from trees that differ by
 * one "package" (a directory of a few MB), v1 in ROOT-A of a sgdisk-made GPT image, the v2 image
 * and its chunk index on a loopback HTTP server that counts the bytes it sends.
 */
class AgentDeltaIT {
  static final int PACKAGE_BYTES = DeltaTestImages.PACKAGE_BYTES;

  @TempDir Path dir;
  Path disk;
  Path v1Image;
  Path v2Image;
  String v1Sha;
  String v2Sha;
  PayloadServer server;

  @BeforeEach
  void node() throws IOException {
    DeltaTestImages images = DeltaTestImages.create(dir);
    v1Image = images.v1();
    v2Image = images.v2();
    disk = images.disk();
    v1Sha = SimulatedNode.sha256(Files.readAllBytes(v1Image));
    v2Sha = SimulatedNode.sha256(Files.readAllBytes(v2Image));
    server =
        PayloadServer.http()
            .serve("/v2.img", v2Image)
            .serve("/v2.img.chunkidx", ChunkIndexFiles.indexPathFor(v2Image));
    agent().init("v1", v1Sha);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  Agent agent() {
    return HostAgents.create(
        new AgentOptions(
            disk,
            dir.resolve("esp"),
            dir.resolve("persist/kubeos"),
            Slot.A,
            dir.resolve("no-health.json"),
            dir.resolve("certs")),
        Clock.systemUTC());
  }

  StageRequest delta(String indexPath, String sha) {
    return new StageRequest(
        server.url(indexPath),
        sha,
        "v2",
        StageRequest.Format.DELTA,
        FetchOptions.defaults().withInsecure(true));
  }

  StageResult stage(String indexPath) {
    return agent().stage(delta(indexPath, v2Sha), ProgressListener.NONE);
  }

  /** Range requests that fetch chunks (not the 1-byte size probe). */
  long chunkRequests(String path) {
    return server.requests(path).stream().filter(r -> !"bytes=0-0".equals(r.range())).count();
  }

  @Test
  void stagesV2FetchingLittleMoreThanTheNewPackage() throws IOException {
    long size = Files.size(v2Image);
    StageResult r = stage("/v2.img.chunkidx");

    assertThat(DeltaTestImages.slotBytes(disk, "ROOT-B", size))
        .isEqualTo(Files.readAllBytes(v2Image));
    AgentStatus s = agent().status();
    assertThat(s.slots().get(Slot.B).state()).isEqualTo(SlotState.VERIFIED);
    assertThat(s.slots().get(Slot.B).sha256()).isEqualTo(v2Sha);
    assertThat(s.slots().get(Slot.B).version()).isEqualTo("v2");
    assertThat(TestDisks.debugfs(disk, TestDisks.partition(disk, "ROOT-B"), "cat /etc/os-release"))
        .contains("KubeOS 2");

    long served = server.bytesSent("/v2.img");
    // all served bytes but the size probe and the multipart framing (< 160 bytes per range)
    long framing = served - 1 - r.fetchedBytes();
    assertThat(framing).isBetween(0L, 160L * rangesAsked("/v2.img"));
    assertThat(served).isGreaterThanOrEqualTo(PACKAGE_BYTES).isLessThan(size / 5);
    assertThat(r.bytes()).isEqualTo(size);
    // coalesced: far fewer ranges than fetched chunks, and several ranges per request
    assertThat(rangesAsked("/v2.img")).isLessThan(r.fetchedBytes() / (16 << 10));
    assertThat(chunkRequests("/v2.img")).isLessThan(rangesAsked("/v2.img"));
    assertThat(agent().activate().nextBootSlot()).isEqualTo(Slot.B);
  }

  /** Ranges asked for in the chunk requests ({@code bytes=A-B,C-D} counts 2). */
  long rangesAsked(String path) {
    return server.requests(path).stream()
        .filter(r -> r.range() != null && !"bytes=0-0".equals(r.range()))
        .mapToLong(r -> r.range().split(",").length)
        .sum();
  }

  @Test
  void aServerThatServesOneRangePerRequestIsAskedRangeByRange() throws IOException {
    server
        .serve("/s3/v2.img", v2Image)
        .serve("/s3/v2.img.chunkidx", ChunkIndexFiles.indexPathFor(v2Image))
        .singleRangeOnly("/s3/v2.img");
    StageResult r = stage("/s3/v2.img.chunkidx");

    assertThat(agent().status().slots().get(Slot.B).state()).isEqualTo(SlotState.VERIFIED);
    assertThat(DeltaTestImages.slotBytes(disk, "ROOT-B", Files.size(v2Image)))
        .isEqualTo(Files.readAllBytes(v2Image));
    List<String> asked =
        server.requests("/s3/v2.img").stream()
            .map(PayloadServer.Request::range)
            .filter(range -> !"bytes=0-0".equals(range))
            .toList();
    // the first multi-range requests (one per connection at most) got the whole image (200),
    // dropped unread; every later request asks for one range
    assertThat(asked.stream().filter(range -> range.contains(",")).count()).isBetween(1L, 4L);
    assertThat(asked.size()).isGreaterThan(2);
    assertThat(r.fetchedBytes()).isLessThan(Files.size(v2Image) / 5);
  }

  @Test
  void stagingTheSameVersionAgainFetchesNothing() throws IOException {
    stage("/v2.img.chunkidx");
    long servedOnce = server.bytesSent("/v2.img");
    long requestsOnce = chunkRequests("/v2.img");

    StageResult again = stage("/v2.img.chunkidx");

    assertThat(again.fetchedBytes()).isZero();
    assertThat(chunkRequests("/v2.img")).isEqualTo(requestsOnce);
    assertThat(server.bytesSent("/v2.img")).isEqualTo(servedOnce + 1);
    assertThat(agent().status().slots().get(Slot.B).state()).isEqualTo(SlotState.VERIFIED);
    assertThat(DeltaTestImages.slotBytes(disk, "ROOT-B", Files.size(v2Image)))
        .isEqualTo(Files.readAllBytes(v2Image));
  }

  @Test
  void theSameRequestToTheSameAgentIsAnsweredWithoutStagingAgainUnlessSomethingChanged()
      throws IOException {
    Agent daemon = agent();
    daemon.stage(delta("/v2.img.chunkidx", v2Sha), ProgressListener.NONE);
    SlotStatus staged = daemon.status().slots().get(Slot.B);
    int requests = server.requests("/v2.img.chunkidx").size() + server.requests("/v2.img").size();

    // a proxy restarted mid-stage asks again once the stage is done: nothing is fetched, written
    // or re-recorded
    StageResult again = daemon.stage(delta("/v2.img.chunkidx", v2Sha), ProgressListener.NONE);

    assertThat(again.bytes()).isZero();
    assertThat(again.fetchedBytes()).isZero();
    assertThat(again.actual().hex()).isEqualTo(v2Sha);
    assertThat(server.requests("/v2.img.chunkidx").size() + server.requests("/v2.img").size())
        .isEqualTo(requests);
    assertThat(daemon.status().slots().get(Slot.B)).isEqualTo(staged);

    // another request for the same digest (here: the whole image instead of its index) stages
    StageRequest raw =
        new StageRequest(
            server.url("/v2.img"),
            v2Sha,
            "v2",
            StageRequest.Format.RAW,
            FetchOptions.defaults().withInsecure(true));
    assertThat(daemon.stage(raw, ProgressListener.NONE).bytes()).isEqualTo(Files.size(v2Image));
    // and once the slot's record changed (its trial armed), the same request stages again
    daemon.activate();
    assertThat(daemon.stage(raw, ProgressListener.NONE).bytes()).isEqualTo(Files.size(v2Image));
    assertThat(daemon.status().slots().get(Slot.B).state()).isEqualTo(SlotState.VERIFIED);
    assertThat(daemon.status().trialSlot()).as("the stage disarmed the trial").isNull();
    // a new agent process has no memory of it: it stages afresh
    assertThat(agent().stage(raw, ProgressListener.NONE).bytes()).isEqualTo(Files.size(v2Image));
  }

  @Test
  void aCorruptedChunkOnTheServerIsRefusedAndTheSlotIsNotVerified() throws IOException {
    byte[] bad = Files.readAllBytes(v2Image);
    int at = indexOf(bad, Files.readAllBytes(dir.resolve("v2/usr/lib/newpkg/f0.so")));
    assertThat(at).isPositive();
    bad[at + 5000] ^= 0x01;
    Path corrupt = dir.resolve("served/v2.img");
    Files.createDirectories(corrupt.getParent());
    Files.write(corrupt, bad);
    server
        .serve("/bad/v2.img", corrupt)
        .serve("/bad/v2.img.chunkidx", ChunkIndexFiles.indexPathFor(v2Image));

    assertThatThrownBy(() -> stage("/bad/v2.img.chunkidx"))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CHECKSUM_MISMATCH))
        .hasMessageContaining("does not match its index");
    AgentStatus s = agent().status();
    assertThat(s.slots().get(Slot.B).state()).isEqualTo(SlotState.EMPTY);
    assertThat(s.nextBootSlot()).isEqualTo(Slot.A);
    assertThatThrownBy(() -> agent().activate()).hasMessageContaining("nothing verified");
  }

  @Test
  void aConnectionCutMidRangeIsResumed() throws IOException {
    server.cutNext("/v2.img", 100_000, 2);
    StageResult r = stage("/v2.img.chunkidx");
    assertThat(r.resumes()).isEqualTo(2);
    assertThat(agent().status().slots().get(Slot.B).state()).isEqualTo(SlotState.VERIFIED);
    assertThat(DeltaTestImages.slotBytes(disk, "ROOT-B", Files.size(v2Image)))
        .isEqualTo(Files.readAllBytes(v2Image));
  }

  @Test
  void aConnectionThatKeepsBreakingFailsClearlyAndARetryFetchesOnlyWhatIsMissing()
      throws IOException {
    server
        .serve("/cut/v2.img", v2Image)
        .serve("/cut/v2.img.chunkidx", ChunkIndexFiles.indexPathFor(v2Image))
        .cutAfter("/cut/v2.img", 150_000, true);
    assertThatThrownBy(() -> stage("/cut/v2.img.chunkidx"))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.DOWNLOAD_FAILED))
        .hasMessageContaining("resumes")
        .hasMessageContaining("retry the stage");
    assertThat(agent().status().slots().get(Slot.B).state()).isEqualTo(SlotState.EMPTY);

    long fresh =
        DeltaEstimate.of(v1Image, v2Image, ChunkerParams.ext4Defaults()).plan().fetchBytes();
    StageResult retry = stage("/v2.img.chunkidx");
    assertThat(retry.fetchedBytes()).isLessThan(fresh);
    assertThat(agent().status().slots().get(Slot.B).state()).isEqualTo(SlotState.VERIFIED);
    assertThat(DeltaTestImages.slotBytes(disk, "ROOT-B", Files.size(v2Image)))
        .isEqualTo(Files.readAllBytes(v2Image));
  }

  @Test
  void aDigestThatIsNotTheIndexedImageIsRefusedBeforeAnythingIsFetched() throws IOException {
    byte[] env0 = Files.readAllBytes(dir.resolve("esp/kubeos/grubenv.0"));
    assertThatThrownBy(() -> agent().stage(delta("/v2.img.chunkidx", v1Sha), ProgressListener.NONE))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CHECKSUM_MISMATCH))
        .hasMessageContaining(v2Sha)
        .hasMessageContaining("nothing was written");
    assertThat(server.requests("/v2.img")).isEmpty();
    assertThat(agent().status().slots().get(Slot.B).state()).isEqualTo(SlotState.EMPTY);
    assertThat(Files.readAllBytes(dir.resolve("esp/kubeos/grubenv.0"))).isEqualTo(env0);
  }

  @Test
  void anIndexOfAnotherImageOrNoIndexAtAllIsRefusedBeforeTheSlotIsTouched() throws IOException {
    server
        .serve("/other/v2.img", v1Image) // the same size as v2.img, other content
        .serve("/other/v2.img.chunkidx", ChunkIndexFiles.indexPathFor(v2Image))
        .serve("/short/v2.img", Arrays.copyOf(Files.readAllBytes(v2Image), 1 << 20))
        .serve("/short/v2.img.chunkidx", ChunkIndexFiles.indexPathFor(v2Image))
        .serve("/noindex.chunkidx", "hello".getBytes());
    assertThatThrownBy(() -> stage("/short/v2.img.chunkidx"))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.PAYLOAD_INVALID))
        .hasMessageContaining("different builds");
    assertThatThrownBy(() -> stage("/noindex.chunkidx"))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.PAYLOAD_INVALID))
        .hasMessageContaining("not a usable chunk index");
    assertThat(agent().status().slots().get(Slot.B).state()).isEqualTo(SlotState.EMPTY);
    // same size but other content: every fetched chunk fails its digest
    assertThatThrownBy(() -> stage("/other/v2.img.chunkidx"))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CHECKSUM_MISMATCH));
    assertThat(agent().status().slots().get(Slot.B).state()).isEqualTo(SlotState.EMPTY);
  }

  static int indexOf(byte[] hay, byte[] needle) {
    byte[] head = Arrays.copyOf(needle, 64);
    outer:
    for (int i = 0; i + head.length <= hay.length; i += 4096) {
      for (int j = 0; j < head.length; j++) {
        if (hay[i + j] != head[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
