package dev.kubeos.formats.signing;

import java.security.PublicKey;

/**
 * A public key the node trusts.
 *
 * @param name its file name in the trust directory (what messages call it)
 * @param fingerprint {@code sha256:<hex>} of its DER SubjectPublicKeyInfo
 * @param key the ECDSA P-256 key
 */
public record TrustedKey(String name, String fingerprint, PublicKey key) {
  /** {@code release.pub (sha256:ab12...)} for messages. */
  public String describe() {
    return name + " (" + fingerprint + ")";
  }
}
