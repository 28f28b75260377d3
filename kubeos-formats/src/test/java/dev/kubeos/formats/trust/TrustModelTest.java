package dev.kubeos.formats.trust;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.formats.digest.Sha256;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The signature formats and the trust policy file: round trips and strict parsing. */
class TrustModelTest {
  static final Sha256 D = Sha256.parse("0123456789abcdef".repeat(4));

  @Test
  void simpleSigningRoundTripsWithSortedOptionalClaims() {
    SimpleSigning s =
        new SimpleSigning("rootfs-2.img", D, Map.of(SimpleSigning.VERSION_CLAIM, "2", "a", "b"));
    String text = new String(s.toBytes(), StandardCharsets.UTF_8);
    assertThat(text)
        .isEqualTo(
            "{\"critical\":{\"identity\":{\"docker-reference\":\"rootfs-2.img\"},\"image\":"
                + "{\"docker-manifest-digest\":\""
                + D
                + "\"},\"type\":\"cosign container image signature\"},"
                + "\"optional\":{\"a\":\"b\",\"dev.kubeos/version\":\"2\"}}");
    SimpleSigning back = SimpleSigning.parse(s.toBytes());
    assertThat(back).isEqualTo(s);
    assertThat(back.version()).contains("2");
  }

  @Test
  void simpleSigningParsingIsStrict() {
    String ok = new String(new SimpleSigning("r", D, Map.of()).toBytes(), StandardCharsets.UTF_8);
    assertRefused(ok.replace("cosign container image signature", "atomic"), "critical.type");
    assertRefused(ok.replace("sha256:", "sha512:"), "expected sha256");
    assertRefused(ok.replace(D.hex(), "abc"), "not a SHA-256 digest");
    assertRefused(
        ok.replace("\"type\":", "\"image\":{\"docker-manifest-digest\":\"x\"},\"type\":"),
        "Duplicate");
    assertRefused("[1]", "not a JSON object");
    assertRefused("{\"critical\"", "not JSON");
  }

  private static void assertRefused(String json, String message) {
    assertThatThrownBy(() -> SimpleSigning.parse(json.getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(message);
  }

  @Test
  void detachedSignatureFilesRoundTripAndBadOnesSayWhy() {
    SignedPayload p = SignedPayload.of("x", new SimpleSigning("r", D, Map.of()).toBytes(), "c2ln");
    List<SignedPayload> back = DetachedSignature.parse(DetachedSignature.render(List.of(p)), "f");
    assertThat(back).containsExactly(SignedPayload.of("f #1", p.payload(), "c2ln"));

    assertThat(DetachedSignature.parse("MEUCIQ==".getBytes(StandardCharsets.UTF_8), "f"))
        .singleElement()
        .satisfies(s -> assertThat(s.problem()).contains("not a KubeOS signature file"));
    String noPayload =
        "{\"kind\":\"" + DetachedSignature.KIND + "\",\"signatures\":[{\"signature\":\"x\"}]}";
    assertThat(DetachedSignature.parse(noPayload.getBytes(StandardCharsets.UTF_8), "f"))
        .singleElement()
        .satisfies(s -> assertThat(s.problem()).contains("payload or signature missing"));
  }

  @Test
  void trustPolicyRoundTripsAndRefusesWhatWouldWeakenIt() {
    TrustPolicy p = new TrustPolicy(true, List.of("release.pub", "next.pub"));
    assertThat(TrustPolicy.parse(p.toJson(), "policy.json")).isEqualTo(p);
    assertThat(p.toJson()).contains("\"require_signatures\" : true");
    assertThat(TrustPolicy.NONE.checksSignatures()).isFalse();

    assertThatThrownBy(() -> TrustPolicy.parse("{\"require_signature\": true}", "p.json"))
        .hasMessageContaining("p.json is not a valid trust policy")
        .hasMessageContaining("require_signature");
    assertThatThrownBy(() -> TrustPolicy.parse("{\"require_signatures\": true}", "p.json"))
        .hasMessageContaining("no key is trusted");
    assertThatThrownBy(() -> new TrustPolicy(false, List.of("../etc/shadow.pub")))
        .hasMessageContaining("must be a file name");
    assertThatThrownBy(() -> new TrustPolicy(false, List.of("a.pub", "a.pub")))
        .hasMessageContaining("listed twice");
  }
}
