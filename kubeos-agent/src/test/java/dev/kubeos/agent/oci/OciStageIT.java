package dev.kubeos.agent.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.agent.Agent;
import dev.kubeos.agent.AgentService;
import dev.kubeos.agent.StageRequest;
import dev.kubeos.agent.host.AgentOptions;
import dev.kubeos.agent.host.HostAgents;
import dev.kubeos.agent.stage.ProgressListener;
import dev.kubeos.agent.stage.StageResult;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.AgentStatus;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.api.agent.OperationResult;
import dev.kubeos.api.agent.Slot;
import dev.kubeos.api.agent.SlotState;
import dev.kubeos.api.agent.UpgradeRequest;
import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.oci.RegistryClient;
import dev.kubeos.oci.RegistryOptions;
import dev.kubeos.oci.model.ImageReference;
import dev.kubeos.oci.model.MediaTypes;
import dev.kubeos.oci.source.FetchOptions;
import dev.kubeos.testing.CuttingProxy;
import dev.kubeos.testing.RegistryServer;
import dev.kubeos.testing.TestDisks;
import dev.kubeos.testing.TestPki;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Upstream-style OS images pulled from Debian's docker-registry on 127.0.0.1 and staged into a real
 * GPT disk image (mkfs.ext4), with the registry faults of issue 6.
 */
class OciStageIT {
  @TempDir Path dir;
  Path disk;
  Path hostsDir;
  Path dockerConfig;
  RegistryServer registry;
  RegistryOptions pushOptions;

  @BeforeEach
  void node() throws IOException {
    disk = TestDisks.create(dir.resolve("disk.img"), 2, 32, 8);
    Path v1 = Files.createDirectories(dir.resolve("v1/etc"));
    Files.writeString(v1.resolve("os-release"), "PRETTY_NAME=\"KubeOS v1\"\n");
    TestDisks.mkfsExt4(disk, TestDisks.partition(disk, "ROOT-A"), dir.resolve("v1"), "ROOT-A");
    hostsDir = Files.createDirectories(dir.resolve("certs.d"));
    dockerConfig = dir.resolve("docker/config.json");
    pushOptions = RegistryOptions.defaults().withHostsDir(hostsDir).withDockerConfig(dockerConfig);
    agent().init("v1", null);
  }

  @AfterEach
  void stop() {
    if (registry != null) {
      registry.close();
    }
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
            .withRegistry(hostsDir, dockerConfig, 0),
        Clock.systemUTC());
  }

  StageResult stage(String ref, String digest) {
    return agent()
        .stage(
            StageRequest.image(ref, digest, "v2", FetchOptions.defaults().withInsecure(true)),
            ProgressListener.NONE);
  }

  /** Starts the registry and pushes a 64 KiB image of v2 as kubeos/os:v2. */
  TestImage pushV2(TestImage.Kind kind) {
    registry = RegistryServer.start(dir.resolve("registry"));
    return push(64, kind);
  }

  /** Pushes an image of v2 with {@code kib} KiB of files as kubeos/os:v2 to the registry. */
  TestImage push(int kib, TestImage.Kind kind) {
    return TestImage.of("v2", kib)
        .push(TestImage.pusher(registry.host(), pushOptions), "kubeos/os", "v2", kind);
  }

  String osRelease(String partition) {
    return TestDisks.debugfs(disk, TestDisks.partition(disk, partition), "cat /etc/os-release");
  }

  Path blobCacheFile(String hex) {
    return dir.resolve("persist/kubeos/blobs/sha256").resolve(hex);
  }

  @Test
  void dockerImageTypeOverTheSocketRequestIsPulledAndStaged() {
    TestImage image = pushV2(TestImage.Kind.DOCKER);
    AgentService service =
        new AgentService(agent(), reason -> {}, dir.resolve("certs"), Duration.ZERO);

    OperationResult result =
        service.prepareUpgrade(
            new UpgradeRequest(
                "v2",
                image.digest.hex(),
                "docker",
                registry.host() + "/kubeos/os:v2",
                null,
                true,
                false,
                null));

    assertThat(result).isEqualTo(OperationResult.UPGRADE_READY);
    AgentStatus status = agent().status();
    assertThat(status.slots().get(Slot.B).state()).isEqualTo(SlotState.VERIFIED);
    assertThat(status.slots().get(Slot.B).version()).isEqualTo("v2");
    assertThat(status.slots().get(Slot.B).sha256()).isEqualTo(image.digest.hex());
    assertThat(osRelease("ROOT-B")).contains("KubeOS v2");
    assertThat(osRelease("ROOT-A")).contains("KubeOS v1");
    assertThat(blobCacheFile(image.layerDescriptors.get(0).digest().hex()))
        .hasBinaryContent(image.layers.get(0));
  }

  @Test
  void containerdTypeWithOciLayersStagesAndASecondStageFetchesNoBlob() {
    TestImage image = pushV2(TestImage.Kind.OCI_TWO_LAYERS);
    AgentService service =
        new AgentService(agent(), reason -> {}, dir.resolve("certs"), Duration.ZERO);
    UpgradeRequest request =
        new UpgradeRequest(
            "v2",
            "sha256:" + image.digest.hex(),
            "containerd",
            registry.host() + "/kubeos/os:v2",
            null,
            true,
            false,
            null);

    service.prepareUpgrade(request);
    long firstBlobGets = registry.blobGets();
    assertThat(agent().status().slots().get(Slot.B).state()).isEqualTo(SlotState.VERIFIED);
    assertThat(osRelease("ROOT-B")).contains("KubeOS v2");
    // os.tar is in the top layer: the lower layer cannot change it and is never fetched
    assertThat(firstBlobGets).isEqualTo(1);

    service.prepareUpgrade(request);

    assertThat(registry.blobGets()).isEqualTo(firstBlobGets);
    assertThat(agent().status().slots().get(Slot.B).state()).isEqualTo(SlotState.VERIFIED);
    assertThat(osRelease("ROOT-B")).contains("KubeOS v2");
  }

  @Test
  void aCachedLayerDamagedOnDiskIsFetchedAgainAndTheStageSucceeds() throws IOException {
    TestImage image = pushV2(TestImage.Kind.DOCKER);
    String ref = registry.host() + "/kubeos/os:v2";
    stage(ref, image.digest.hex());
    long gets = registry.blobGets();
    Path cached;
    try (var files = Files.list(dir.resolve("persist/kubeos/blobs/sha256"))) {
      cached = files.filter(f -> !f.toString().endsWith(".partial")).findFirst().orElseThrow();
    }
    byte[] rotten = Files.readAllBytes(cached);
    rotten[rotten.length / 2] ^= 1; // same size: found in the cache, fails its re-verification
    Files.write(cached, rotten);

    StageResult r = stage(ref, image.digest.hex());

    assertThat(r.actual()).isEqualTo(image.digest);
    assertThat(registry.blobGets()).isEqualTo(gets + 1);
    assertThat(agent().status().slots().get(Slot.B).state()).isEqualTo(SlotState.VERIFIED);
    assertThat(osRelease("ROOT-B")).contains("KubeOS v2");
    assertThat(Files.readAllBytes(cached)).isNotEqualTo(rotten); // cached again, intact
  }

  @Test
  void wrongDigestIsRefusedBeforeAnyBlobIsFetchedOrTheSlotIsTouched() {
    registry = RegistryServer.start(dir.resolve("registry"));
    push(16, TestImage.Kind.DOCKER);
    AgentStatus before = agent().status();
    String wrong = "ab".repeat(32);

    assertThatThrownBy(() -> stage(registry.host() + "/kubeos/os:v2", wrong))
        .isInstanceOf(AgentException.class)
        .hasMessageContaining("expected manifest digest sha256:" + wrong)
        .extracting(e -> ((AgentException) e).code())
        .isEqualTo(ErrorCode.CHECKSUM_MISMATCH);

    assertThat(registry.blobGets()).isZero();
    assertThat(agent().status()).isEqualTo(before);
  }

  @Test
  void unknownTagIsADownloadFailureNaming404() {
    registry = RegistryServer.start(dir.resolve("registry"));
    AgentStatus before = agent().status();

    assertThatThrownBy(() -> stage(registry.host() + "/kubeos/os:nope", "ab".repeat(32)))
        .isInstanceOf(AgentException.class)
        .hasMessageContaining("answered 404")
        .hasMessageContaining("MANIFEST_UNKNOWN")
        .extracting(e -> ((AgentException) e).code())
        .isEqualTo(ErrorCode.DOWNLOAD_FAILED);
    assertThat(agent().status()).isEqualTo(before);
  }

  @Test
  void blobCorruptedInTheRegistryStoreIsRefusedAndNotCached() throws IOException {
    TestImage image = pushV2(TestImage.Kind.OCI_TWO_LAYERS);
    String layerHex = image.layerDescriptors.get(1).digest().hex();
    Path data = registry.blobData(layerHex);
    byte[] bytes = Files.readAllBytes(data);
    bytes[bytes.length / 2] ^= 0x5a; // bit rot inside os.tar's file data: the tar still reads
    Files.write(data, bytes);
    AgentStatus before = agent().status();

    assertThatThrownBy(() -> stage(registry.host() + "/kubeos/os:v2", image.digest.hex()))
        .isInstanceOf(AgentException.class)
        .hasMessageContaining("is not sha256:" + layerHex)
        .extracting(e -> ((AgentException) e).code())
        .isEqualTo(ErrorCode.CHECKSUM_MISMATCH);

    assertThat(agent().status()).isEqualTo(before);
    assertThat(blobCacheFile(layerHex)).doesNotExist();
    assertThat(dir.resolve("persist/kubeos/blobs/sha256")).isEmptyDirectory();
  }

  @Test
  void connectionCutMidBlobIsResumedByRange() {
    registry = RegistryServer.start(dir.resolve("registry"));
    TestImage image = push(2048, TestImage.Kind.DOCKER);
    try (CuttingProxy proxy = CuttingProxy.to(registry.port())) {
      proxy.cutOnceAfter(image.layers.get(0).length / 2, null);

      StageResult result = stage(proxy.host() + "/kubeos/os:v2", image.digest.hex());

      assertThat(proxy.cuts()).isEqualTo(1);
      assertThat(result.resumes()).isEqualTo(1);
    }
    assertThat(agent().status().slots().get(Slot.B).state()).isEqualTo(SlotState.VERIFIED);
    assertThat(osRelease("ROOT-B")).contains("KubeOS v2");
    assertThat(registry.blobGets()).isEqualTo(2); // the first GET and one Range GET
  }

  @Test
  void registryStoppedMidPullFailsClearlyAndLeavesTheNodeAsItWas() {
    registry = RegistryServer.start(dir.resolve("registry"));
    TestImage image = push(2048, TestImage.Kind.DOCKER);
    AgentStatus before = agent().status();
    try (CuttingProxy proxy = CuttingProxy.to(registry.port())) {
      proxy.cutOnceAfter(image.layers.get(0).length / 2, registry::stop);

      assertThatThrownBy(() -> stage(proxy.host() + "/kubeos/os:v2", image.digest.hex()))
          .isInstanceOf(AgentException.class)
          .hasMessageContaining("resume attempts")
          .extracting(e -> ((AgentException) e).code())
          .isEqualTo(ErrorCode.DOWNLOAD_FAILED);
    }
    assertThat(registry.running()).isFalse();
    assertThat(agent().status()).isEqualTo(before);
    assertThat(dir.resolve("persist/kubeos/blobs/sha256")).isEmptyDirectory();
  }

  @Test
  void htpasswdRegistryAnswers401WithoutCredentialsAndServesWithConfigJson() throws IOException {
    registry = RegistryServer.startWithHtpasswd(dir.resolve("registry"), "node", "s3cret-pw");
    String ref = registry.host() + "/kubeos/os:v2";
    assertThatThrownBy(() -> stage(ref, "ab".repeat(32)))
        .isInstanceOf(AgentException.class)
        .hasMessageContaining("401")
        .hasMessageContaining("no credentials for " + registry.host())
        .extracting(e -> ((AgentException) e).code())
        .isEqualTo(ErrorCode.DOWNLOAD_FAILED);

    writeDockerConfig(
        "{\"auths\":{\""
            + registry.host()
            + "\":{\"auth\":\""
            + Base64.getEncoder().encodeToString("node:s3cret-pw".getBytes(StandardCharsets.UTF_8))
            + "\"}}}");
    TestImage image = push(16, TestImage.Kind.DOCKER);

    stage(ref, image.digest.hex());

    assertThat(osRelease("ROOT-B")).contains("KubeOS v2");
  }

  @Test
  void wrongPasswordAndCredentialHelpersAreNamedWithoutLeakingSecrets() throws IOException {
    registry = RegistryServer.startWithHtpasswd(dir.resolve("registry"), "node", "s3cret-pw");
    String ref = registry.host() + "/kubeos/os:v2";
    writeDockerConfig(
        "{\"auths\":{\""
            + registry.host()
            + "\":{\"username\":\"node\",\"password\":\"wrong-pw\"}}}");
    assertThatThrownBy(() -> stage(ref, "ab".repeat(32)))
        .hasMessageContaining("refused the credentials of user 'node'")
        .hasMessageNotContaining("wrong-pw");

    writeDockerConfig("{\"credHelpers\":{\"" + registry.host() + "\":\"ecr-login\"}}");
    assertThatThrownBy(() -> stage(ref, "ab".repeat(32)))
        .hasMessageContaining("docker-credential-ecr-login")
        .extracting(e -> ((AgentException) e).code())
        .isEqualTo(ErrorCode.UNSUPPORTED);
  }

  @Test
  void bearerTokenFlowGetsOneTokenPerScope() throws IOException {
    registry = RegistryServer.start(dir.resolve("registry"));
    TestImage image = push(16, TestImage.Kind.DOCKER);
    try (TokenAuthProxy auth = TokenAuthProxy.start(registry.port(), "node", "t0ken-pw")) {
      String ref = auth.host() + "/kubeos/os:v2";
      assertThatThrownBy(() -> stage(ref, image.digest.hex()))
          .hasMessageContaining("token service")
          .hasMessageContaining("401");

      writeDockerConfig(
          "{\"auths\":{\""
              + auth.host()
              + "\":{\"username\":\"node\",\"password\":\"t0ken-pw\"}}}");
      stage(ref, image.digest.hex());

      assertThat(osRelease("ROOT-B")).contains("KubeOS v2");
      assertThat(auth.tokensIssued()).isEqualTo(1); // manifest and blob GET share the pull scope
      assertThat(auth.authorizedRequests()).isGreaterThanOrEqualTo(2);
    }
  }

  @Test
  void hostsTomlMirrorIsUsedBeforeTheRegistryItself() throws IOException {
    registry = RegistryServer.start(dir.resolve("registry"));
    TestImage image = push(16, TestImage.Kind.DOCKER);
    // the image's registry is a closed port on 127.0.0.1; only the mirror holds the image
    int closed;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    String upstream = "127.0.0.1:" + closed;
    Path hostDir = Files.createDirectories(hostsDir.resolve(upstream));
    Files.writeString(
        hostDir.resolve("hosts.toml"),
        "server = \"http://"
            + upstream
            + "\"\n\n[host.\"http://"
            + registry.host()
            + "\"]\n  capabilities = [\"pull\", \"resolve\"]\n");

    StageResult result = stage(upstream + "/kubeos/os:v2", image.digest.hex());

    assertThat(result.actual()).isEqualTo(image.digest);
    assertThat(osRelease("ROOT-B")).contains("KubeOS v2");
    assertThat(registry.requests())
        .anyMatch(r -> r.path().equals("/v2/kubeos/os/manifests/v2") && r.status() == 200);
  }

  @Test
  void aMirrorGetsItsOwnCredentialsNotTheRegistrys() throws IOException {
    registry = RegistryServer.startWithHtpasswd(dir.resolve("registry"), "mirror-user", "m-pw");
    int closed;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    String upstream = "127.0.0.1:" + closed;
    Path hostDir = Files.createDirectories(hostsDir.resolve(upstream));
    Files.writeString(
        hostDir.resolve("hosts.toml"),
        "server = \"http://" + upstream + "\"\n[host.\"http://" + registry.host() + "\"]\n");
    writeDockerConfig(
        "{\"auths\":{\"" + upstream + "\":{\"username\":\"mirror-user\",\"password\":\"m-pw\"}}}");
    String ref = upstream + "/kubeos/os:v2";
    // the registry's credentials are not sent to the mirror: it answers 401, then the registry
    // itself is unreachable
    assertThatThrownBy(() -> stage(ref, "ab".repeat(32)))
        .hasMessageContaining("mirrors tried first: " + registry.host())
        .hasMessageContaining("no credentials for " + registry.host());

    writeDockerConfig(
        "{\"auths\":{\""
            + registry.host()
            + "\":{\"username\":\"mirror-user\",\"password\":\"m-pw\"}}}");
    TestImage image = push(16, TestImage.Kind.DOCKER);

    stage(ref, image.digest.hex());

    assertThat(osRelease("ROOT-B")).contains("KubeOS v2");
  }

  @Test
  void anImageIndexResolvesToTheLinuxAmd64Manifest() {
    registry = RegistryServer.start(dir.resolve("registry"));
    RegistryClient pusher = TestImage.pusher(registry.host(), pushOptions);
    TestImage amd64 =
        TestImage.of("v2", 16).push(pusher, "kubeos/os", "v2-amd64", TestImage.Kind.DOCKER);
    TestImage arm64 =
        TestImage.of("v2-arm", 16).push(pusher, "kubeos/os", "v2-arm64", TestImage.Kind.DOCKER);
    String index =
        "{\"schemaVersion\":2,\"mediaType\":\""
            + MediaTypes.OCI_INDEX
            + "\",\"manifests\":["
            + entry(arm64, "arm64")
            + ","
            + entry(amd64, "amd64")
            + "]}";
    Sha256 indexDigest =
        pusher.pushManifest(
            "kubeos/os", "v2", index.getBytes(StandardCharsets.UTF_8), MediaTypes.OCI_INDEX);

    StageResult result = stage(registry.host() + "/kubeos/os:v2", indexDigest.hex());

    assertThat(result.actual()).isEqualTo(indexDigest);
    assertThat(osRelease("ROOT-B")).contains("KubeOS v2\"");
    String armLayer = arm64.layerDescriptors.get(0).digest().toString();
    assertThat(registry.requests())
        .noneMatch(r -> r.method().equals("GET") && r.path().endsWith(armLayer))
        .anyMatch(
            r ->
                r.method().equals("GET")
                    && r.path().endsWith(amd64.layerDescriptors.get(0).digest().toString()));
  }

  private static String entry(TestImage image, String arch) {
    return "{\"mediaType\":\""
        + MediaTypes.DOCKER_MANIFEST
        + "\",\"digest\":\""
        + image.digest
        + "\",\"size\":"
        + image.manifest.length
        + ",\"platform\":{\"os\":\"linux\",\"architecture\":\""
        + arch
        + "\"}}";
  }

  @Test
  void httpsRegistryIsTrustedThroughTheCaInHostsToml() throws IOException {
    TestPki pki = TestPki.create(dir.resolve("pki"), TestPki.KeyFormat.EC);
    registry = RegistryServer.startTls(dir.resolve("registry"), pki);
    RegistryClient pusher =
        RegistryClient.forImage(
            ImageReference.parse(registry.host() + "/x/y"),
            pushOptions,
            FetchOptions.defaults().withCaCert(pki.caCertPem()));
    TestImage image = TestImage.of("v2", 16).push(pusher, "kubeos/os", "v2", TestImage.Kind.DOCKER);
    String ref = registry.host() + "/kubeos/os:v2";
    StageRequest https = StageRequest.image(ref, image.digest.hex(), "v2", FetchOptions.defaults());

    assertThatThrownBy(() -> agent().stage(https, ProgressListener.NONE))
        .hasMessageContaining("TLS")
        .extracting(e -> ((AgentException) e).code())
        .isEqualTo(ErrorCode.DOWNLOAD_FAILED);

    Path hostDir = Files.createDirectories(hostsDir.resolve(registry.host()));
    Files.copy(pki.caCertPem(), hostDir.resolve("registry-ca.pem"));
    Files.writeString(
        hostDir.resolve("hosts.toml"),
        "server = \"https://" + registry.host() + "\"\nca = \"registry-ca.pem\"\n");

    agent().stage(https, ProgressListener.NONE);

    assertThat(osRelease("ROOT-B")).contains("KubeOS v2");
  }

  void writeDockerConfig(String json) throws IOException {
    Files.createDirectories(dockerConfig.getParent());
    Files.writeString(dockerConfig, json);
  }
}
