package dev.kubeos.formats.signing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import org.bouncycastle.crypto.engines.XSalsa20Engine;
import org.bouncycastle.crypto.generators.SCrypt;
import org.bouncycastle.crypto.macs.Poly1305;
import org.bouncycastle.crypto.params.KeyParameter;
import org.bouncycastle.crypto.params.ParametersWithIV;

/**
 * Reads cosign's own private key files ({@code ENCRYPTED SIGSTORE PRIVATE KEY}, older {@code
 * ENCRYPTED COSIGN PRIVATE KEY}): the PEM body is JSON {@code {"kdf": {"name": "scrypt", "params":
 * {"N", "r", "p"}, "salt"}, "cipher": {"name": "nacl/secretbox", "nonce"}, "ciphertext"}}; the key
 * is scrypt(passphrase, salt) (32 bytes), the ciphertext a NaCl secretbox (XSalsa20-Poly1305,
 * 16-byte tag first) of the PKCS#8 DER private key.
 */
final class CosignEncryptedKey {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** scrypt memory is 128 * N * r bytes; refuse files that ask for more than 1 GiB. */
  private static final long MAX_SCRYPT_MEMORY = 1L << 30;

  private CosignEncryptedKey() {}

  /**
   * Decrypts to the PKCS#8 DER private key.
   *
   * @param body the PEM body (the JSON document)
   * @param passphrase may be empty (cosign allows an empty password)
   * @param origin names the file in messages
   */
  static byte[] decrypt(byte[] body, char[] passphrase, String origin) {
    JsonNode root;
    try {
      root = MAPPER.readTree(body);
    } catch (IOException e) {
      throw invalid(origin, "its body is not the expected JSON document");
    }
    if (root == null
        || !"scrypt".equals(root.path("kdf").path("name").asText())
        || !"nacl/secretbox".equals(root.path("cipher").path("name").asText())) {
      throw invalid(origin, "only kdf 'scrypt' with cipher 'nacl/secretbox' is supported");
    }
    JsonNode params = root.path("kdf").path("params");
    int n = params.path("N").asInt(0);
    int r = params.path("r").asInt(0);
    int p = params.path("p").asInt(0);
    if (n < 2
        || (n & (n - 1)) != 0
        || r < 1
        || p < 1
        || p > 16
        || 128L * n * r > MAX_SCRYPT_MEMORY) {
      throw invalid(
          origin, "its scrypt parameters N=" + n + " r=" + r + " p=" + p + " are out of range");
    }
    byte[] salt;
    byte[] nonce;
    byte[] sealed;
    try {
      salt = Base64.getDecoder().decode(root.path("kdf").path("salt").asText());
      nonce = Base64.getDecoder().decode(root.path("cipher").path("nonce").asText());
      sealed = Base64.getDecoder().decode(root.path("ciphertext").asText());
    } catch (IllegalArgumentException e) {
      throw invalid(origin, "salt, nonce or ciphertext is not base64");
    }
    if (nonce.length != 24 || sealed.length < 16) {
      throw invalid(origin, "the secretbox nonce or ciphertext has the wrong length");
    }
    byte[] password = new String(passphrase).getBytes(StandardCharsets.UTF_8);
    byte[] key = SCrypt.generate(password, salt, n, r, p, 32);
    byte[] plain = open(key, nonce, sealed);
    if (plain == null) {
      throw new AgentException(
          ErrorCode.INVALID_REQUEST,
          "cannot decrypt the cosign private key "
              + origin
              + ": wrong passphrase (or the file is damaged); give the passphrase in the"
              + " environment variable named by --passphrase-env");
    }
    return plain;
  }

  /** NaCl secretbox open; null when the tag does not match. */
  static byte[] open(byte[] key, byte[] nonce, byte[] sealed) {
    XSalsa20Engine cipher = new XSalsa20Engine();
    cipher.init(false, new ParametersWithIV(new KeyParameter(key), nonce));
    byte[] polyKey = new byte[32];
    cipher.processBytes(new byte[32], 0, 32, polyKey, 0);
    Poly1305 mac = new Poly1305();
    mac.init(new KeyParameter(polyKey));
    mac.update(sealed, 16, sealed.length - 16);
    byte[] tag = new byte[16];
    mac.doFinal(tag, 0);
    byte[] expected = new byte[16];
    System.arraycopy(sealed, 0, expected, 0, 16);
    if (!MessageDigest.isEqual(tag, expected)) {
      return null;
    }
    byte[] plain = new byte[sealed.length - 16];
    cipher.processBytes(sealed, 16, plain.length, plain, 0);
    return plain;
  }

  /** NaCl secretbox seal: 16-byte tag followed by the ciphertext. */
  static byte[] seal(byte[] key, byte[] nonce, byte[] plain) {
    XSalsa20Engine cipher = new XSalsa20Engine();
    cipher.init(true, new ParametersWithIV(new KeyParameter(key), nonce));
    byte[] polyKey = new byte[32];
    cipher.processBytes(new byte[32], 0, 32, polyKey, 0);
    byte[] out = new byte[16 + plain.length];
    cipher.processBytes(plain, 0, plain.length, out, 16);
    Poly1305 mac = new Poly1305();
    mac.init(new KeyParameter(polyKey));
    mac.update(out, 16, plain.length);
    mac.doFinal(out, 0);
    return out;
  }

  private static AgentException invalid(String origin, String why) {
    return new AgentException(
        ErrorCode.INVALID_REQUEST, "cosign private key " + origin + " cannot be read: " + why);
  }
}
