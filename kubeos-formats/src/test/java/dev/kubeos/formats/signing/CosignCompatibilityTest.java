package dev.kubeos.formats.signing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.formats.trust.SignatureManifest;
import dev.kubeos.formats.trust.SignedPayload;
import dev.kubeos.formats.trust.SimpleSigning;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What cosign wrote is what we read, and what we write is what cosign writes. */
class CosignCompatibilityTest {
  static final byte[] PAYLOAD = CosignFixture.PAYLOAD.getBytes(StandardCharsets.UTF_8);
  static final TrustedKey KEY =
      Keys.parsePublic(CosignFixture.PUBLIC_KEY, "cosign.pub", "cosign.pub");

  @Test
  void cosignsPublicKeyHasTheExpectedFingerprint() {
    assertThat(KEY.fingerprint()).isEqualTo(CosignFixture.FINGERPRINT);
  }

  @Test
  void ourPayloadBuilderReproducesCosignsBytesExactly() {
    SimpleSigning s =
        new SimpleSigning(CosignFixture.REFERENCE, Sha256.parse(CosignFixture.SUBJECT), Map.of());
    assertThat(new String(s.toBytes(), StandardCharsets.UTF_8)).isEqualTo(CosignFixture.PAYLOAD);
    assertThat(SignatureManifest.digest(s.toBytes())).isEqualTo(CosignFixture.PAYLOAD_DIGEST);
  }

  @Test
  void aSignatureMadeByCosignVerifiesForItsDigest() {
    Signatures.Verdict v =
        Signatures.verify(
            List.of(SignedPayload.of("cosign", PAYLOAD, CosignFixture.SIGNATURE)),
            List.of(KEY),
            Sha256.parse(CosignFixture.SUBJECT),
            "any");
    assertThat(v.accepted()).isPresent();
    assertThat(v.accepted().get().key().name()).isEqualTo("cosign.pub");
    assertThat(v.accepted().get().statement().dockerReference()).isEqualTo(CosignFixture.REFERENCE);
  }

  @Test
  void cosignsSignatureManifestIsReadAndItsBlobCheckedAgainstTheDescriptor() {
    byte[] manifest = CosignFixture.MANIFEST.getBytes(StandardCharsets.UTF_8);
    List<SignedPayload> read =
        SignatureManifest.read(
            manifest,
            d -> d.equals(CosignFixture.PAYLOAD_DIGEST) ? PAYLOAD : null,
            "sha256-f20c.sig");
    assertThat(read).hasSize(1);
    assertThat(read.get(0).problem()).isNull();
    assertThat(read.get(0).signature()).isEqualTo(CosignFixture.SIGNATURE);
    assertThat(
            Signatures.verify(read, List.of(KEY), Sha256.parse(CosignFixture.SUBJECT), null)
                .accepted())
        .isPresent();
    assertThat(SignatureManifest.tag(Sha256.parse(CosignFixture.SUBJECT)))
        .isEqualTo("sha256-" + CosignFixture.SUBJECT.substring(7) + ".sig");

    // a registry that serves other bytes under the payload's digest is caught
    byte[] other = CosignFixture.PAYLOAD.replace("tobby", "evil!").getBytes(StandardCharsets.UTF_8);
    List<SignedPayload> swapped = SignatureManifest.read(manifest, d -> other, "sig");
    assertThat(swapped.get(0).problem()).contains("does not match its digest");
  }

  @Test
  void cosignsSignatureIsRefusedUnderAnotherKeyOrForAnotherDigest() {
    TrustedKey other =
        Keys.parsePublic(Keys.publicPem(Keys.generate().getPublic()), "other.pub", "other.pub");
    SignedPayload sig = SignedPayload.of("cosign", PAYLOAD, CosignFixture.SIGNATURE);
    Signatures.Verdict wrongKey =
        Signatures.verify(List.of(sig), List.of(other), Sha256.parse(CosignFixture.SUBJECT), null);
    assertThat(wrongKey.accepted()).isEmpty();
    assertThat(wrongKey.findings())
        .singleElement()
        .asString()
        .contains("not signed by any trusted");

    Sha256 another = Sha256.parse("ab".repeat(32));
    Signatures.Verdict wrongDigest = Signatures.verify(List.of(sig), List.of(KEY), another, null);
    assertThat(wrongDigest.accepted()).isEmpty();
    assertThat(wrongDigest.findings())
        .singleElement()
        .asString()
        .contains("signed by cosign.pub for " + CosignFixture.SUBJECT, "not for the requested");
  }

  @Test
  void aManifestWeBuildHasCosignsShapeAndVerifies() {
    var pair = Keys.generate();
    Sha256 subject = Sha256.parse(CosignFixture.SUBJECT);
    SignedPayload signed =
        Signatures.signDigest(pair.getPrivate(), subject, CosignFixture.REFERENCE, null, "new");
    SignatureManifest.Built built = SignatureManifest.build(List.of(signed));
    String manifest = new String(built.manifest(), StandardCharsets.UTF_8);
    assertThat(manifest)
        .startsWith(
            "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\"")
        .contains(
            "\"layers\":[{\"mediaType\":\"application/vnd.dev.cosign.simplesigning.v1+json\","
                + "\"size\":245,\"digest\":\""
                + CosignFixture.PAYLOAD_DIGEST
                + "\",\"annotations\":{\"dev.cosignproject.cosign/signature\":\"");
    assertThat(built.blobs()).containsKey(CosignFixture.PAYLOAD_DIGEST);
    List<SignedPayload> back =
        SignatureManifest.read(built.manifest(), built.blobs()::get, "built");
    TrustedKey key = Keys.parsePublic(Keys.publicPem(pair.getPublic()), "k.pub", "k.pub");
    assertThat(Signatures.verify(back, List.of(key), subject, null).accepted()).isPresent();
  }
}
