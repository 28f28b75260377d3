package dev.kubeos.agent.trust;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.agent.Agent;
import dev.kubeos.agent.StageRequest;
import dev.kubeos.agent.host.AgentOptions;
import dev.kubeos.agent.host.HostAgents;
import dev.kubeos.agent.stage.ProgressListener;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.api.agent.Slot;
import dev.kubeos.api.agent.SlotState;
import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.formats.signing.Keys;
import dev.kubeos.formats.signing.Signatures;
import dev.kubeos.formats.trust.DetachedSignature;
import dev.kubeos.formats.trust.SignatureManifest;
import dev.kubeos.formats.trust.SignedPayload;
import dev.kubeos.formats.trust.TrustPolicy;
import dev.kubeos.oci.source.FetchOptions;
import dev.kubeos.testing.PayloadServer;
import dev.kubeos.testing.TestDisks;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
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
 * Staging under a trust policy on a real node image (sgdisk GPT, mkfs.ext4 slots, grub env files)
 * from a loopback HTTP server: a refused payload leaves slot bytes, agent state and boot env
 * exactly as they were, and its bytes are never even requested.
 */
class SignedStageIT {
  static final KeyPair RELEASE = Keys.generate();
  static final KeyPair OTHER = Keys.generate();

  @TempDir Path dir;
  Path disk;
  Path bootDir;
  Path stateDir;
  Path trustDir;
  PayloadServer server;
  byte[] v2;
  Sha256 v2Digest;

  @BeforeEach
  void node() throws IOException {
    disk = TestDisks.create(dir.resolve("disk.img"), 2, 32, 8);
    TestDisks.mkfsExt4(disk, TestDisks.partition(disk, "ROOT-A"), tree("v1"), "ROOT-A");
    Path v2Image = dir.resolve("v2.img");
    TestDisks.run("mkfs.ext4", "-q", "-F", "-d", tree("v2").toString(), v2Image.toString(), "16M");
    v2 = Files.readAllBytes(v2Image);
    v2Digest = Sha256.parse(SignatureManifest.digest(v2));
    bootDir = dir.resolve("esp");
    stateDir = dir.resolve("persist/kubeos");
    trustDir = dir.resolve("etc/KubeOS/trust");
    server = PayloadServer.http().serve("/v2.img", v2);
    agent().init("v1", null);
    trust(true, RELEASE);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private Path tree(String version) throws IOException {
    Path t = dir.resolve("tree-" + version);
    Files.createDirectories(t.resolve("etc"));
    Files.writeString(t.resolve("etc/os-release"), "PRETTY_NAME=\"KubeOS " + version + "\"\n");
    return t;
  }

  private Agent agent() {
    return HostAgents.create(
        new AgentOptions(
            disk, bootDir, stateDir, Slot.A, null, dir.resolve("certs"), trustDir, null, null, 0),
        Clock.systemUTC());
  }

  /** Writes the trust dir: policy.json and release.pub. */
  private void trust(boolean require, KeyPair key) throws IOException {
    Files.createDirectories(trustDir);
    Files.writeString(trustDir.resolve("release.pub"), Keys.publicPem(key.getPublic()));
    Files.writeString(
        trustDir.resolve(TrustPolicy.FILE),
        new TrustPolicy(require, List.of("release.pub")).toJson());
  }

  private static byte[] sig(KeyPair key, Sha256 digest, String version) {
    SignedPayload p = Signatures.signDigest(key.getPrivate(), digest, "v2.img", version, "new");
    return DetachedSignature.render(List.of(p));
  }

  private StageRequest request(String path, Sha256 digest) {
    return new StageRequest(
        server.url(path),
        digest.hex(),
        "v2",
        StageRequest.Format.RAW,
        FetchOptions.defaults().withInsecure(true));
  }

  /** Slot B's bytes, the agent state and both boot env copies, hashed together. */
  private String nodeFingerprint() throws IOException {
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

  private static MessageDigest sha() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Stages, expects SIGNATURE_REJECTED, and proves nothing on the node changed. */
  private AgentException assertRefusedUntouched(StageRequest r) throws IOException {
    String before = nodeFingerprint();
    int asked = server.requests(r.url().getPath()).size();
    AgentException[] caught = new AgentException[1];
    assertThatThrownBy(() -> agent().stage(r, ProgressListener.NONE))
        .isInstanceOfSatisfying(
            AgentException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.SIGNATURE_REJECTED);
              caught[0] = e;
            });
    assertThat(nodeFingerprint()).isEqualTo(before);
    assertThat(agent().status().slots().get(Slot.B).state()).isEqualTo(SlotState.EMPTY);
    assertThat(server.requests(r.url().getPath())).as("payload bytes requested").hasSize(asked);
    return caught[0];
  }

  @Test
  void aValidSignatureByTheTrustedKeyStages() throws IOException {
    server.serve("/v2.img.sig", sig(RELEASE, v2Digest, "v2"));
    agent().stage(request("/v2.img", v2Digest), ProgressListener.NONE);
    assertThat(agent().status().slots().get(Slot.B).state()).isEqualTo(SlotState.VERIFIED);
    assertThat(agent().status().slots().get(Slot.B).sha256()).isEqualTo(v2Digest.hex());
    assertThat(server.requests("/v2.img.sig")).hasSize(1);
  }

  @Test
  void anUnsignedPayloadIsRefusedNamingTheKeyAndTheDigest() throws IOException {
    AgentException e = assertRefusedUntouched(request("/v2.img", v2Digest));
    assertThat(e.getMessage())
        .contains(
            "v2 (" + v2Digest + ") has no valid signature",
            "Keys tried: release.pub (" + Keys.fingerprint(RELEASE.getPublic()) + ")",
            "No signature is published at " + server.url("/v2.img.sig"),
            "kubeos image sign");
  }

  @Test
  void aSignatureByAnotherKeyIsRefused() throws IOException {
    server.serve("/v2.img.sig", sig(OTHER, v2Digest, "v2"));
    AgentException e = assertRefusedUntouched(request("/v2.img", v2Digest));
    assertThat(e.getMessage()).contains("not signed by any trusted key", "release.pub (sha256:");
  }

  @Test
  void aSignatureOverAnotherDigestIsRefused() throws IOException {
    Sha256 v1Digest = Sha256.parse("5a".repeat(32));
    server.serve("/v2.img.sig", sig(RELEASE, v1Digest, "v2"));
    AgentException e = assertRefusedUntouched(request("/v2.img", v2Digest));
    assertThat(e.getMessage())
        .contains("signed by release.pub for " + v1Digest + ", not for the requested " + v2Digest);
  }

  @Test
  void aTamperedSignedDocumentIsRefused() throws IOException {
    Sha256 evil = Sha256.parse("e1".repeat(32));
    String honest = new String(sig(RELEASE, v2Digest, "v2"), StandardCharsets.UTF_8);
    SignedPayload p = DetachedSignature.parse(honest.getBytes(StandardCharsets.UTF_8), "x").get(0);
    String doc =
        new String(p.payload(), StandardCharsets.UTF_8).replace(v2Digest.hex(), evil.hex());
    byte[] tampered =
        DetachedSignature.render(
            List.of(SignedPayload.of("x", doc.getBytes(StandardCharsets.UTF_8), p.signature())));
    server.serve("/v2.img.sig", tampered);
    AgentException e = assertRefusedUntouched(request("/v2.img", evil));
    assertThat(e.getMessage()).contains("altered after signing");
  }

  @Test
  void aPayloadSwappedAfterSigningIsNeverVerified() throws IOException {
    // the signature is valid for v2's digest, but the server now serves other bytes there
    byte[] v3 = v2.clone();
    v3[4096] ^= 0x5a;
    server.serve("/v2.img", v3).serve("/v2.img.sig", sig(RELEASE, v2Digest, "v2"));
    assertThatThrownBy(() -> agent().stage(request("/v2.img", v2Digest), ProgressListener.NONE))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CHECKSUM_MISMATCH));
    assertThat(agent().status().slots().get(Slot.B).state()).isNotEqualTo(SlotState.VERIFIED);
    assertThat(agent().status().nextBootSlot()).isEqualTo(Slot.A);
    // asking for the swapped bytes' digest instead finds no signature for it
    Sha256 v3Digest = Sha256.parse(SignatureManifest.digest(v3));
    AgentException e = assertRefusedUntouched(request("/v2.img", v3Digest));
    assertThat(e.getMessage()).contains("not for the requested " + v3Digest);
  }

  @Test
  void auditModeStagesUnsignedPayloadsAndLogsTheFinding() throws IOException {
    trust(false, RELEASE);
    server.serve("/v2.img.sig", sig(OTHER, v2Digest, "v2"));
    agent().stage(request("/v2.img", v2Digest), ProgressListener.NONE);
    assertThat(agent().status().slots().get(Slot.B).state()).isEqualTo(SlotState.VERIFIED);
    assertThat(server.requests("/v2.img.sig")).hasSize(1);
  }

  @Test
  void noPolicyFetchesNoSignature() throws IOException {
    Files.delete(trustDir.resolve(TrustPolicy.FILE));
    agent().stage(request("/v2.img", v2Digest), ProgressListener.NONE);
    assertThat(agent().status().slots().get(Slot.B).state()).isEqualTo(SlotState.VERIFIED);
    assertThat(server.requests("/v2.img.sig")).isEmpty();
  }

  @Test
  void aBrokenTrustPolicyFailsClosedWithTheReason() throws IOException {
    Path p384 = dir.resolve("p384.key");
    TestDisks.run(
        "openssl", "ecparam", "-name", "secp384r1", "-genkey", "-noout", "-out", p384.toString());
    TestDisks.run(
        "openssl",
        "ec",
        "-in",
        p384.toString(),
        "-pubout",
        "-out",
        trustDir.resolve("release.pub").toString());
    server.serve("/v2.img.sig", sig(RELEASE, v2Digest, "v2"));
    String before = nodeFingerprint();
    assertThatThrownBy(() -> agent().stage(request("/v2.img", v2Digest), ProgressListener.NONE))
        .isInstanceOfSatisfying(
            AgentException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.PRECONDITION_FAILED))
        .hasMessageContaining("trust policy")
        .hasMessageContaining("release.pub")
        .hasMessageContaining("secp384r1");
    assertThat(nodeFingerprint()).isEqualTo(before);
  }

  @Test
  void filePayloadsCarryTheirSignatureNextToThem() throws IOException {
    Path payload = dir.resolve("pub/rootfs-v2.img");
    Files.createDirectories(payload.getParent());
    Files.write(payload, v2);
    StageRequest r =
        new StageRequest(
            payload.toUri(),
            v2Digest.hex(),
            "v2",
            StageRequest.Format.RAW,
            FetchOptions.defaults());
    String before = nodeFingerprint();
    assertThatThrownBy(() -> agent().stage(r, ProgressListener.NONE))
        .hasMessageContaining("No signature is published at " + payload.toUri() + ".sig");
    assertThat(nodeFingerprint()).isEqualTo(before);
    Files.write(dir.resolve("pub/rootfs-v2.img.sig"), sig(RELEASE, v2Digest, "v2"));
    agent().stage(r, ProgressListener.NONE);
    assertThat(agent().status().slots().get(Slot.B).state()).isEqualTo(SlotState.VERIFIED);
  }

  @Test
  void payloadKindsWithoutADetachedSignatureFailClosedWhenRequired() throws IOException {
    StageRequest oci =
        new StageRequest(
            java.net.URI.create("oci://127.0.0.1:5000/kubeos/os"),
            v2Digest.hex(),
            "v2",
            StageRequest.Format.RAW,
            FetchOptions.defaults());
    PolicyTrustGate gate = new PolicyTrustGate(trustDir, new DetachedSignatureSource());
    assertThatThrownBy(() -> gate.check(oci))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNSUPPORTED))
        .hasMessageContaining("refusing to stage v2")
        .hasMessageContaining("scheme 'oci'");
    trust(false, RELEASE);
    assertThat(gate.check(oci)).contains("not checked (audit mode)", "scheme 'oci'");
  }
}
