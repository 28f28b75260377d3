package dev.kubeos.formats.signing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.formats.trust.SignedPayload;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which published signatures are accepted for a requested digest and version. */
class SignaturesTest {
  static final KeyPair RELEASE = Keys.generate();
  static final KeyPair OTHER = Keys.generate();
  static final TrustedKey TRUSTED =
      Keys.parsePublic(Keys.publicPem(RELEASE.getPublic()), "release.pub", "release.pub");
  static final Sha256 D = Sha256.parse("11".repeat(32));

  static Signatures.Verdict verify(SignedPayload p, Sha256 digest, String version) {
    return Signatures.verify(List.of(p), List.of(TRUSTED), digest, version);
  }

  @Test
  void aSignatureByTheTrustedKeyForTheDigestAndVersionIsAccepted() {
    SignedPayload p = Signatures.signDigest(RELEASE.getPrivate(), D, "rootfs-2.img", "2", "sig");
    Signatures.Verdict v = verify(p, D, "2");
    assertThat(v.accepted()).isPresent();
    assertThat(v.accepted().get().key()).isEqualTo(TRUSTED);
    assertThat(TRUSTED.fingerprint()).isEqualTo(Keys.fingerprint(RELEASE.getPublic()));
  }

  @Test
  void signedByAnotherKeyIsRefused() {
    SignedPayload p = Signatures.signDigest(OTHER.getPrivate(), D, "r", "2", "sig");
    assertThat(verify(p, D, "2").findings())
        .containsExactly(
            "sig: not signed by any trusted key (signed by another key, or the"
                + " signed document was altered after signing)");
  }

  @Test
  void aSignatureOverAnotherDigestOrVersionIsRefused() {
    SignedPayload p = Signatures.signDigest(RELEASE.getPrivate(), D, "r", "2", "sig");
    Sha256 other = Sha256.parse("22".repeat(32));
    assertThat(verify(p, other, "2").findings())
        .singleElement()
        .asString()
        .contains("signed by release.pub for " + D + ", not for the requested " + other);
    assertThat(verify(p, D, "3").findings())
        .singleElement()
        .asString()
        .contains("for version 2, not for the requested version 3");
  }

  @Test
  void aTamperedPayloadDocumentIsRefusedBeforeItsContentIsBelieved() {
    SignedPayload p = Signatures.signDigest(RELEASE.getPrivate(), D, "r", "2", "sig");
    Sha256 attackers = Sha256.parse("33".repeat(32));
    String text = new String(p.payload(), StandardCharsets.UTF_8).replace(D.hex(), attackers.hex());
    SignedPayload tampered =
        SignedPayload.of("sig", text.getBytes(StandardCharsets.UTF_8), p.signature());
    Signatures.Verdict v = verify(tampered, attackers, "2");
    assertThat(v.accepted()).isEmpty();
    assertThat(v.findings()).singleElement().asString().contains("not signed by any trusted key");
  }

  @Test
  void garbageSignaturesAreInvalidNotErrors() {
    byte[] payload = Signatures.signDigest(RELEASE.getPrivate(), D, "r", null, "s").payload();
    for (String sig : List.of("", "not base64!", "MEUCIQ==", "AAAA")) {
      assertThat(verify(SignedPayload.of("s", payload, sig), D, null).accepted()).isEmpty();
    }
  }

  @Test
  void oneValidSignatureAmongBadOnesIsEnough() {
    SignedPayload bad = SignedPayload.unusable("sig #1", "payload is not base64");
    SignedPayload good = Signatures.signDigest(RELEASE.getPrivate(), D, "r", null, "sig #2");
    Signatures.Verdict v = Signatures.verify(List.of(bad, good), List.of(TRUSTED), D, "9");
    assertThat(v.accepted()).isPresent();
    assertThat(v.accepted().get().origin()).isEqualTo("sig #2");
    assertThat(v.findings()).containsExactly("sig #1: payload is not base64");
  }
}
