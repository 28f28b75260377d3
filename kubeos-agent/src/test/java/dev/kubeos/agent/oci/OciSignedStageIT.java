package dev.kubeos.agent.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.agent.Agent;
import dev.kubeos.agent.StageRequest;
import dev.kubeos.agent.host.AgentOptions;
import dev.kubeos.agent.host.HostAgents;
import dev.kubeos.agent.stage.ProgressListener;
import dev.kubeos.agent.trust.RegistrySignatureSource;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.api.agent.Slot;
import dev.kubeos.api.agent.SlotState;
import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.formats.signing.Keys;
import dev.kubeos.formats.signing.Signatures;
import dev.kubeos.formats.trust.SignedPayload;
import dev.kubeos.formats.trust.TrustPolicy;
import dev.kubeos.oci.RegistryClient;
import dev.kubeos.oci.RegistryOptions;
import dev.kubeos.oci.model.Descriptor;
import dev.kubeos.oci.model.ImageReference;
import dev.kubeos.oci.source.FetchOptions;
import dev.kubeos.testing.RegistryServer;
import dev.kubeos.testing.TestDisks;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * cosign-style signatures of OCI payloads read from Debian's docker-registry ({@code
 * sha256-<hex>.sig} tag) under a trust policy that requires them, on a real node image: a refused
 * image leaves slot B's bytes, the agent state and both boot env copies exactly as they were, and
 * not one of its layer blobs is requested.
 */
class OciSignedStageIT {
  static final KeyPair RELEASE = Keys.generate();
  static final KeyPair OTHER = Keys.generate();

  @TempDir Path dir;
  Path disk;
  Path bootDir;
  Path stateDir;
  Path trustDir;
  Path hostsDir;
  RegistryServer registry;
  RegistryClient client;
  TestImage v2;
  String ref;

  @BeforeEach
  void node() throws IOException {
    disk = TestDisks.create(dir.resolve("disk.img"), 2, 32, 8);
    Path v1 = Files.createDirectories(dir.resolve("v1/etc"));
    Files.writeString(v1.resolve("os-release"), "PRETTY_NAME=\"KubeOS v1\"\n");
    TestDisks.mkfsExt4(disk, TestDisks.partition(disk, "ROOT-A"), dir.resolve("v1"), "ROOT-A");
    bootDir = dir.resolve("esp");
    stateDir = dir.resolve("persist/kubeos");
    trustDir = dir.resolve("etc/KubeOS/trust");
    hostsDir = Files.createDirectories(dir.resolve("certs.d"));
    registry = RegistryServer.start(dir.resolve("registry"));
    client =
        TestImage.pusher(
            registry.host(),
            RegistryOptions.defaults()
                .withHostsDir(hostsDir)
                .withDockerConfig(dir.resolve("none.json")));
    v2 = TestImage.of("v2", 64).push(client, "kubeos/os", "v2", TestImage.Kind.DOCKER);
    ref = registry.host() + "/kubeos/os:v2";
    agent().init("v1", null);
    Files.createDirectories(trustDir);
    Files.writeString(trustDir.resolve("release.pub"), Keys.publicPem(RELEASE.getPublic()));
    Files.writeString(
        trustDir.resolve(TrustPolicy.FILE), new TrustPolicy(true, List.of("release.pub")).toJson());
  }

  @AfterEach
  void stop() {
    registry.close();
  }

  Agent agent() {
    return HostAgents.create(
        new AgentOptions(
            disk,
            bootDir,
            stateDir,
            Slot.A,
            null,
            dir.resolve("certs"),
            trustDir,
            hostsDir,
            dir.resolve("none.json"),
            0),
        Clock.systemUTC());
  }

  StageRequest request(Sha256 digest) {
    return StageRequest.image(ref, digest.hex(), "v2", FetchOptions.defaults().withInsecure(true));
  }

  void sign(KeyPair key, Sha256 signedDigest, Sha256 publishedUnder) {
    SignedPayload p =
        Signatures.signDigest(key.getPrivate(), signedDigest, ref, "v2", "test signer");
    RegistrySignatureSource.publish(client, ImageReference.parse(ref), publishedUnder, List.of(p));
  }

  /** GETs of the image's layer blobs (signature blobs are small GETs of their own). */
  long layerGets(TestImage image) {
    return registry.requests().stream()
        .filter(r -> r.method().equals("GET"))
        .filter(
            r ->
                image.layerDescriptors.stream()
                    .map(Descriptor::digest)
                    .anyMatch(d -> r.path().endsWith("/blobs/" + d)))
        .count();
  }

  /** Slot B's bytes, the agent state and both boot env copies, hashed together. */
  String nodeFingerprint() throws IOException {
    MessageDigest md = sha();
    TestDisks.Part b = TestDisks.partition(disk, "ROOT-B");
    try (FileChannel ch = FileChannel.open(disk)) {
      ch.position(b.offsetBytes());
      try (InputStream in = Channels.newInputStream(ch)) {
        md.update(in.readNBytes(Math.toIntExact(b.sizeBytes())));
      }
    }
    md.update(Files.readAllBytes(stateDir.resolve("agent-state.json")));
    md.update(Files.readAllBytes(bootDir.resolve("kubeos/grubenv.0")));
    md.update(Files.readAllBytes(bootDir.resolve("kubeos/grubenv.1")));
    return HexFormat.of().formatHex(md.digest());
  }

  static MessageDigest sha() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  AgentException assertRefusedUntouched(StageRequest r, ErrorCode code) throws IOException {
    String before = nodeFingerprint();
    AgentException[] caught = new AgentException[1];
    assertThatThrownBy(() -> agent().stage(r, ProgressListener.NONE))
        .isInstanceOfSatisfying(
            AgentException.class,
            e -> {
              assertThat(e.code()).as(e.getMessage()).isEqualTo(code);
              caught[0] = e;
            });
    assertThat(nodeFingerprint()).isEqualTo(before);
    assertThat(agent().status().slots().get(Slot.B).state()).isEqualTo(SlotState.EMPTY);
    assertThat(layerGets(v2)).as("layer blobs requested").isZero();
    return caught[0];
  }

  @Test
  void aValidSignatureInTheRegistryStagesTheImage() throws IOException {
    sign(RELEASE, v2.digest, v2.digest);

    agent().stage(request(v2.digest), ProgressListener.NONE);

    assertThat(agent().status().slots().get(Slot.B).state()).isEqualTo(SlotState.VERIFIED);
    assertThat(agent().status().slots().get(Slot.B).sha256()).isEqualTo(v2.digest.hex());
    assertThat(registry.requests())
        .anyMatch(
            r ->
                r.method().equals("GET")
                    && r.path().endsWith("/manifests/sha256-" + v2.digest.hex() + ".sig")
                    && r.status() == 200);
    assertThat(layerGets(v2)).isPositive();
  }

  @Test
  void aMissingSignatureTagIsRefusedNamingTheTagKeyAndDigest() throws IOException {
    AgentException e = assertRefusedUntouched(request(v2.digest), ErrorCode.SIGNATURE_REJECTED);
    assertThat(e.getMessage())
        .contains(
            "v2 (" + v2.digest + ") has no valid signature",
            "release.pub (" + Keys.fingerprint(RELEASE.getPublic()) + ")",
            "No signature is published at "
                + registry.host()
                + "/kubeos/os:sha256-"
                + v2.digest.hex()
                + ".sig",
            "kubeos image sign --key KEY --image");
    assertThat(registry.requests()).anyMatch(r -> r.path().endsWith(".sig") && r.status() == 404);
  }

  @Test
  void aSignatureByAnotherKeyIsRefused() throws IOException {
    sign(OTHER, v2.digest, v2.digest);
    AgentException e = assertRefusedUntouched(request(v2.digest), ErrorCode.SIGNATURE_REJECTED);
    assertThat(e.getMessage()).contains("not signed by any trusted key");
  }

  @Test
  void aSignatureOverAnotherDigestIsRefused() throws IOException {
    Sha256 other = Sha256.parse("5a".repeat(32));
    sign(RELEASE, other, v2.digest);
    AgentException e = assertRefusedUntouched(request(v2.digest), ErrorCode.SIGNATURE_REJECTED);
    assertThat(e.getMessage()).contains("for " + other + ", not for the requested " + v2.digest);
  }

  @Test
  void anImageSwappedAfterSigningIsRefusedBeforeAnyLayerIsFetched() throws IOException {
    sign(RELEASE, v2.digest, v2.digest);
    // the tag now points at another manifest
    TestImage swapped =
        TestImage.of("v2-evil", 64).push(client, "kubeos/os", "v2", TestImage.Kind.DOCKER);
    assertThat(swapped.digest).isNotEqualTo(v2.digest);

    // the signed digest: its signature is valid, but the tag serves another manifest
    AgentException e = assertRefusedUntouched(request(v2.digest), ErrorCode.CHECKSUM_MISMATCH);
    assertThat(e.getMessage())
        .contains("expected manifest digest " + v2.digest, "" + swapped.digest);
    assertThat(layerGets(swapped)).isZero();

    // the digest the tag now serves: nobody signed it
    AgentException unsigned =
        assertRefusedUntouched(request(swapped.digest), ErrorCode.SIGNATURE_REJECTED);
    assertThat(unsigned.getMessage()).contains("No signature is published at");
    assertThat(layerGets(swapped)).isZero();
  }

  @Test
  void signingAgainKeepsTheEarlierSignatures() {
    sign(OTHER, v2.digest, v2.digest);
    sign(RELEASE, v2.digest, v2.digest);
    List<SignedPayload> published =
        RegistrySignatureSource.read(client, ImageReference.parse(ref), v2.digest);
    assertThat(published).hasSize(2).allMatch(p -> p.problem() == null);
    agent().stage(request(v2.digest), ProgressListener.NONE);
    assertThat(agent().status().slots().get(Slot.B).state()).isEqualTo(SlotState.VERIFIED);
  }
}
