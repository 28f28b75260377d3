package dev.kubeos.agent.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.agent.Agent;
import dev.kubeos.agent.StageRequest;
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
import dev.kubeos.formats.chunk.ChunkerParams;
import dev.kubeos.formats.chunk.io.ChunkIndexFiles;
import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.oci.RegistryClient;
import dev.kubeos.oci.RegistryOptions;
import dev.kubeos.oci.model.Descriptor;
import dev.kubeos.oci.model.ManifestDocument;
import dev.kubeos.oci.model.MediaTypes;
import dev.kubeos.oci.model.OsArtifact;
import dev.kubeos.oci.source.FetchOptions;
import dev.kubeos.testing.CuttingProxy;
import dev.kubeos.testing.RegistryServer;
import dev.kubeos.testing.TestDisks;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * KubeOS OS artifacts (raw image + chunk index) staged from Debian's docker-registry into a real
 * GPT disk image: two ext4 images made by mkfs.ext4 -d from trees that differ by one "package", v1
 * in ROOT-A, v2 pushed as an artifact. What the registry served is read from its access log.
 */
class ArtifactStageIT {
  static final int PACKAGE_BYTES = DeltaTestImages.PACKAGE_BYTES;

  @TempDir Path dir;
  Path disk;
  Path hostsDir;
  Path v2Image;
  Path v1Image;
  RegistryServer registry;
  RegistryClient client;

  @BeforeEach
  void node() throws IOException {
    DeltaTestImages images = DeltaTestImages.create(dir);
    v1Image = images.v1();
    v2Image = images.v2();
    disk = images.disk();
    hostsDir = Files.createDirectories(dir.resolve("certs.d"));
    registry = RegistryServer.start(dir.resolve("registry"));
    client =
        TestImage.pusher(
            registry.host(),
            RegistryOptions.defaults()
                .withHostsDir(hostsDir)
                .withDockerConfig(dir.resolve("none.json")));
    agent().init("v1", null);
  }

  @AfterEach
  void stop() {
    registry.close();
  }

  Agent agent() {
    return HostAgents.create(
        new AgentOptions(
                disk,
                dir.resolve("esp"),
                dir.resolve("persist/kubeos"),
                Slot.A,
                dir.resolve("no-health.json"),
                dir.resolve("certs"))
            .withRegistry(hostsDir, dir.resolve("none.json"), 0),
        Clock.systemUTC());
  }

  /** Pushes {@code image} (and its index when asked) as a KubeOS OS artifact at {@code tag}. */
  Sha256 pushArtifact(String tag, Path image, boolean withIndex) throws IOException {
    String repo = "kubeos/os";
    Sha256 sha = ManifestDocument.sha256(Files.readAllBytes(image));
    Descriptor raw = client.pushBlob(repo, image, sha, MediaTypes.KUBEOS_ROOTFS_RAW);
    Descriptor index =
        withIndex
            ? client.pushBlob(
                repo,
                Files.readAllBytes(ChunkIndexFiles.indexPathFor(image)),
                MediaTypes.KUBEOS_ROOTFS_CHUNKIDX)
            : null;
    Descriptor config =
        client.pushBlob(repo, OsArtifact.config("v2", "v2.img", raw), MediaTypes.KUBEOS_OS_CONFIG);
    byte[] manifest = OsArtifact.manifest(config, raw, "v2.img", index, "v2.img.chunkidx", "v2");
    return client.pushManifest(repo, tag, manifest, MediaTypes.OCI_MANIFEST);
  }

  StageResult stage(String tag, Sha256 digest) {
    return agent()
        .stage(
            StageRequest.image(
                registry.host() + "/kubeos/os:" + tag,
                digest.hex(),
                "v2",
                FetchOptions.defaults().withInsecure(true)),
            ProgressListener.NONE);
  }

  List<RegistryServer.Request> gets(Sha256 blob) {
    return registry.requests().stream()
        .filter(r -> r.method().equals("GET") && r.path().endsWith("/blobs/" + blob))
        .toList();
  }

  Sha256 v2Sha() throws IOException {
    return ManifestDocument.sha256(Files.readAllBytes(v2Image));
  }

  @Test
  void aDeltaFromTheRegistryFetchesLittleMoreThanTheNewPackage() throws IOException {
    Sha256 manifest = pushArtifact("v2-raw", v2Image, true);
    long size = Files.size(v2Image);

    StageResult r = stage("v2-raw", manifest);

    assertThat(DeltaTestImages.slotBytes(disk, "ROOT-B", size))
        .isEqualTo(Files.readAllBytes(v2Image));
    AgentStatus s = agent().status();
    assertThat(s.slots().get(Slot.B).state()).isEqualTo(SlotState.VERIFIED);
    assertThat(s.slots().get(Slot.B).sha256()).isEqualTo(manifest.hex());
    assertThat(TestDisks.debugfs(disk, TestDisks.partition(disk, "ROOT-B"), "cat /etc/os-release"))
        .contains("KubeOS 2");
    assertThat(r.bytes()).isEqualTo(size);
    assertThat(r.fetchedBytes()).isGreaterThanOrEqualTo(PACKAGE_BYTES).isLessThan(size / 5);
    // the raw image only by ranges (206), never whole, several ranges per request
    // (docker-registry answers multipart/byteranges)
    assertThat(gets(v2Sha())).isNotEmpty().allMatch(g -> g.status() == 206);
    int ranges = DeltaEstimate.of(v1Image, v2Image, ChunkerParams.ext4Defaults()).plan().ranges();
    assertThat(gets(v2Sha()).size()).isLessThan(Math.max(2, ranges));
    System.out.printf(
        "artifact delta v1 -> v2: fetched %d of %d bytes (%.1f%%) in %d range requests%n",
        r.fetchedBytes(), size, 100.0 * r.fetchedBytes() / size, gets(v2Sha()).size());
    assertThat(agent().activate().nextBootSlot()).isEqualTo(Slot.B);
  }

  @Test
  void stagingTheSameArtifactTwiceFetchesNoBlobTheSecondTime() throws IOException {
    Sha256 manifest = pushArtifact("v2-raw", v2Image, true);
    stage("v2-raw", manifest);
    long blobGets = registry.blobGets();

    StageResult again = stage("v2-raw", manifest);

    assertThat(registry.blobGets()).isEqualTo(blobGets);
    assertThat(again.fetchedBytes()).isZero();
    assertThat(agent().status().slots().get(Slot.B).state()).isEqualTo(SlotState.VERIFIED);
    assertThat(DeltaTestImages.slotBytes(disk, "ROOT-B", Files.size(v2Image)))
        .isEqualTo(Files.readAllBytes(v2Image));
  }

  @Test
  void withoutAnIndexTheRawImageStreamsIntoTheSlotOnceAndIsCached() throws IOException {
    Sha256 manifest = pushArtifact("v2-full", v2Image, false);
    long size = Files.size(v2Image);

    StageResult r = stage("v2-full", manifest);

    assertThat(DeltaTestImages.slotBytes(disk, "ROOT-B", size))
        .isEqualTo(Files.readAllBytes(v2Image));
    assertThat(r.fetchedBytes()).isEqualTo(size);
    assertThat(gets(v2Sha())).hasSize(1).allMatch(g -> g.status() == 200);
    assertThat(agent().status().slots().get(Slot.B).state()).isEqualTo(SlotState.VERIFIED);
    assertThat(Files.size(dir.resolve("persist/kubeos/blobs/sha256").resolve(v2Sha().hex())))
        .isEqualTo(size);

    // again: from the blob cache, no blob GET
    long blobGets = registry.blobGets();
    StageResult again = stage("v2-full", manifest);
    assertThat(registry.blobGets()).isEqualTo(blobGets);
    assertThat(again.fetchedBytes()).isZero();
    assertThat(DeltaTestImages.slotBytes(disk, "ROOT-B", size))
        .isEqualTo(Files.readAllBytes(v2Image));
  }

  @Test
  void theImageDigestInsteadOfTheManifestDigestIsRefusedBeforeAnyBlob() throws IOException {
    pushArtifact("v2-raw", v2Image, true);
    assertThatThrownBy(() -> stage("v2-raw", v2Sha()))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CHECKSUM_MISMATCH))
        .hasMessageContaining("expected manifest digest " + v2Sha());
    assertThat(registry.blobGets()).isZero();
    assertThat(agent().status().slots().get(Slot.B).state()).isEqualTo(SlotState.EMPTY);
  }

  @Test
  void aCorruptedRawBlobInTheRegistryIsRefusedAndTheSlotIsNotVerified() throws IOException {
    Sha256 manifest = pushArtifact("v2-raw", v2Image, true);
    byte[] bad = Files.readAllBytes(v2Image);
    byte[] pkg = Files.readAllBytes(dir.resolve("v2/usr/lib/newpkg/f0.so"));
    int at = indexOf(bad, pkg);
    assertThat(at).isPositive();
    try (FileChannel ch =
        FileChannel.open(registry.blobData(v2Sha().hex()), StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(new byte[] {(byte) (bad[at + 5000] ^ 1)}), at + 5000);
    }

    assertThatThrownBy(() -> stage("v2-raw", manifest))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CHECKSUM_MISMATCH))
        .hasMessageContaining("does not match its index");
    assertThat(agent().status().slots().get(Slot.B).state()).isEqualTo(SlotState.EMPTY);
    assertThat(agent().status().nextBootSlot()).isEqualTo(Slot.A);
  }

  @Test
  void aConnectionCutMidRangeIsResumedAndTheSlotVerified() throws IOException {
    Sha256 manifest = pushArtifact("v2-raw", v2Image, true);
    long size = Files.size(v2Image);
    StageResult r;
    try (CuttingProxy proxy = CuttingProxy.to(registry.port())) {
      // the index is a few KB; the first range response of the new package is cut in the middle
      proxy.cutOnceAfter(PACKAGE_BYTES / 4, null);
      r =
          agent()
              .stage(
                  StageRequest.image(
                      proxy.host() + "/kubeos/os:v2-raw",
                      manifest.hex(),
                      "v2",
                      FetchOptions.defaults().withInsecure(true)),
                  ProgressListener.NONE);
      assertThat(proxy.cuts()).isEqualTo(1);
    }
    assertThat(r.resumes()).isPositive();
    assertThat(agent().status().slots().get(Slot.B).state()).isEqualTo(SlotState.VERIFIED);
    assertThat(DeltaTestImages.slotBytes(disk, "ROOT-B", size))
        .isEqualTo(Files.readAllBytes(v2Image));
  }

  @Test
  void theRegistryStoppedMidDeltaFailsClearlyAndTheSlotIsNeverVerified() throws IOException {
    Sha256 manifest = pushArtifact("v2-raw", v2Image, true);
    AgentStatus before = agent().status();
    try (CuttingProxy proxy = CuttingProxy.to(registry.port())) {
      proxy.cutOnceAfter(PACKAGE_BYTES / 4, registry::stop);
      assertThatThrownBy(
              () ->
                  agent()
                      .stage(
                          StageRequest.image(
                              proxy.host() + "/kubeos/os:v2-raw",
                              manifest.hex(),
                              "v2",
                              FetchOptions.defaults().withInsecure(true)),
                          ProgressListener.NONE))
          .isInstanceOfSatisfying(
              AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.DOWNLOAD_FAILED))
          .hasMessageContaining("retry the stage");
    }
    assertThat(registry.running()).isFalse();
    AgentStatus after = agent().status();
    assertThat(after.slots().get(Slot.B).state()).isEqualTo(SlotState.EMPTY);
    assertThat(after.nextBootSlot()).isEqualTo(before.nextBootSlot()).isEqualTo(Slot.A);
  }

  static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i += 4096) {
      for (int j = 0; j < 64; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
