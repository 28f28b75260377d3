package dev.kubeos.formats.signing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.formats.trust.SignedPayload;
import dev.kubeos.testing.TestDisks;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Keys made by openssl and by cosign are read; wrong curves and junk are refused clearly. */
class KeysIT {
  static final Sha256 D = Sha256.parse("44".repeat(32));

  @TempDir Path dir;

  /** Signs with {@code key} and checks the signature with the public key openssl derives. */
  private void assertSignsForOpensslsPublicKey(PrivateKey key, Path privatePem) {
    Path pub = dir.resolve("derived.pub");
    TestDisks.run(
        "openssl", "pkey", "-in", privatePem.toString(), "-pubout", "-out", pub.toString());
    SignedPayload p = Signatures.signDigest(key, D, "r", null, "s");
    assertThat(Signatures.verify(List.of(p), List.of(Keys.readPublic(pub)), D, null).accepted())
        .isPresent();
  }

  @Test
  void readsOpensslEcparamGenpkeyAndEncryptedPkcs8Keys() throws Exception {
    Path ecparam = dir.resolve("ecparam.key");
    TestDisks.run(
        "openssl", "ecparam", "-name", "prime256v1", "-genkey", "-out", ecparam.toString());
    assertThat(Files.readString(ecparam)).contains("BEGIN EC PRIVATE KEY");
    assertSignsForOpensslsPublicKey(Keys.readPrivate(ecparam, null), ecparam);

    Path genpkey = dir.resolve("genpkey.key");
    TestDisks.run(
        "openssl",
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        genpkey.toString());
    assertThat(Files.readString(genpkey)).contains("BEGIN PRIVATE KEY");
    assertSignsForOpensslsPublicKey(Keys.readPrivate(genpkey, null), genpkey);

    Path encrypted = dir.resolve("encrypted.key");
    TestDisks.run(
        "openssl",
        "pkcs8",
        "-topk8",
        "-in",
        genpkey.toString(),
        "-out",
        encrypted.toString(),
        "-passout",
        "pass:s3cret");
    assertThat(Files.readString(encrypted)).contains("BEGIN ENCRYPTED PRIVATE KEY");
    assertSignsForOpensslsPublicKey(Keys.readPrivate(encrypted, "s3cret".toCharArray()), genpkey);
    assertThatThrownBy(() -> Keys.readPrivate(encrypted, null))
        .hasMessageContaining("is encrypted")
        .hasMessageContaining("--passphrase-env");
    assertThatThrownBy(() -> Keys.readPrivate(encrypted, "wrong".toCharArray()))
        .hasMessageContaining("wrong passphrase");
  }

  @Test
  void keysWeWriteAreReadByOpensslAndBack() throws Exception {
    KeyPair pair = Keys.generate();
    Path plain = dir.resolve("plain.key");
    Files.writeString(plain, Keys.privatePem(pair.getPrivate(), null));
    Path enc = dir.resolve("enc.key");
    Files.writeString(enc, Keys.privatePem(pair.getPrivate(), "pw".toCharArray()));
    assertThat(Files.readString(enc)).contains("BEGIN ENCRYPTED PRIVATE KEY");
    // openssl decrypts our encrypted PKCS#8 and derives the same public key
    String fromOpenssl =
        TestDisks.run("openssl", "pkey", "-in", enc.toString(), "-passin", "pass:pw", "-pubout");
    assertThat(fromOpenssl).isEqualTo(Keys.publicPem(pair.getPublic()));
    assertThat(Keys.readPrivate(enc, "pw".toCharArray())).isEqualTo(pair.getPrivate());
    assertThat(Keys.readPrivate(plain, null)).isEqualTo(pair.getPrivate());
  }

  @Test
  void readsAPrivateKeyWrittenByCosign() throws Exception {
    Path cosignKey = dir.resolve("cosign.key");
    Files.writeString(cosignKey, CosignFixture.ENCRYPTED_PRIVATE_KEY);
    PrivateKey key = Keys.readPrivate(cosignKey, new char[0]);
    assertThat(key.getAlgorithm()).isEqualTo("EC");
    // the key works: openssl derives its public key from the PKCS#8 we decrypted
    Path pkcs8 = dir.resolve("decrypted.key");
    Files.writeString(pkcs8, Keys.privatePem(key, null));
    assertSignsForOpensslsPublicKey(key, pkcs8);
    assertThatThrownBy(() -> Keys.readPrivate(cosignKey, "not-empty".toCharArray()))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST))
        .hasMessageContaining("wrong passphrase");
  }

  @Test
  void secretboxSealsWhatItOpensAndDetectsTampering() {
    byte[] key = new byte[32];
    byte[] nonce = new byte[24];
    key[0] = 7;
    byte[] sealed = CosignEncryptedKey.seal(key, nonce, "hello".getBytes());
    assertThat(CosignEncryptedKey.open(key, nonce, sealed)).isEqualTo("hello".getBytes());
    sealed[sealed.length - 1] ^= 1;
    assertThat(CosignEncryptedKey.open(key, nonce, sealed)).isNull();
  }

  @Test
  void wrongCurvesOtherAlgorithmsAndJunkAreRefusedWithTheReason() throws Exception {
    Path p384 = dir.resolve("p384.pub");
    Path p384Key = dir.resolve("p384.key");
    TestDisks.run(
        "openssl",
        "ecparam",
        "-name",
        "secp384r1",
        "-genkey",
        "-noout",
        "-out",
        p384Key.toString());
    TestDisks.run("openssl", "ec", "-in", p384Key.toString(), "-pubout", "-out", p384.toString());
    assertThatThrownBy(() -> Keys.readPublic(p384))
        .hasMessageContaining("secp384r1")
        .hasMessageContaining("P-256");
    assertThatThrownBy(() -> Keys.readPrivate(p384Key, null)).hasMessageContaining("secp384r1");

    Path rsa = dir.resolve("rsa.pub");
    Path rsaKey = dir.resolve("rsa.key");
    TestDisks.run("openssl", "genpkey", "-algorithm", "RSA", "-out", rsaKey.toString());
    TestDisks.run("openssl", "pkey", "-in", rsaKey.toString(), "-pubout", "-out", rsa.toString());
    assertThatThrownBy(() -> Keys.readPublic(rsa)).hasMessageContaining("not an EC key");

    Path junk = dir.resolve("junk.pub");
    Files.writeString(junk, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
    assertThatThrownBy(() -> Keys.readPublic(junk)).hasMessageContaining("junk.pub is unusable");
    Files.writeString(junk, "hello");
    assertThatThrownBy(() -> Keys.readPublic(junk)).hasMessageContaining("no PEM block");
    assertThatThrownBy(() -> Keys.readPublic(p384Key)).hasMessageContaining("unusable");
    assertThatThrownBy(() -> Keys.readPublic(dir.resolve("missing.pub")))
        .hasMessageContaining("does not exist");
  }
}
