package dev.kubeos.formats.signing;

import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.formats.trust.SignedPayload;
import dev.kubeos.formats.trust.SimpleSigning;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Signing and verifying simple-signing payloads with ECDSA P-256 over SHA-256 (cosign's scheme).
 */
public final class Signatures {
  private static final String ALGORITHM = "SHA256withECDSA";

  private Signatures() {}

  /**
   * A signature found valid.
   *
   * @param key the trusted key that made it
   * @param statement what it signs
   * @param origin where it was published
   */
  public record Accepted(TrustedKey key, SimpleSigning statement, String origin) {}

  /**
   * The outcome of checking published signatures.
   *
   * @param accepted the first signature that is valid for the request, if any
   * @param findings why each other signature was not accepted, one line each
   */
  public record Verdict(Optional<Accepted> accepted, List<String> findings) {
    public Verdict {
      findings = List.copyOf(findings);
    }
  }

  /** Signs {@code payload}: base64 of the ASN.1 DER ECDSA signature over its SHA-256. */
  public static String sign(PrivateKey key, byte[] payload) {
    try {
      Signature s = Signature.getInstance(ALGORITHM);
      s.initSign(key);
      s.update(payload);
      return Base64.getEncoder().encodeToString(s.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot sign with this key: " + e.getMessage(), e);
    }
  }

  /**
   * A signed statement that {@code digest} (holding {@code version}, when given) is trusted by the
   * key's owner.
   *
   * @param reference where the signed thing is published (informative)
   */
  public static SignedPayload signDigest(
      PrivateKey key, Sha256 digest, String reference, String version, String origin) {
    SimpleSigning statement =
        new SimpleSigning(
            reference,
            digest,
            version == null ? Map.of() : Map.of(SimpleSigning.VERSION_CLAIM, version));
    byte[] payload = statement.toBytes();
    return SignedPayload.of(origin, payload, sign(key, payload));
  }

  /** Whether {@code signature} (base64 DER) is {@code key}'s signature over {@code payload}. */
  public static boolean valid(PublicKey key, byte[] payload, String signature) {
    byte[] der;
    try {
      der = Base64.getDecoder().decode(signature.trim());
    } catch (IllegalArgumentException e) {
      return false;
    }
    try {
      Signature s = Signature.getInstance(ALGORITHM);
      s.initVerify(key);
      s.update(payload);
      return s.verify(der);
    } catch (GeneralSecurityException e) {
      return false; // a malformed DER signature is an invalid signature
    }
  }

  /**
   * Checks published signatures for a payload with digest {@code expected} and version {@code
   * version}. A signature is accepted when a trusted key made it over the exact payload bytes, the
   * payload is a cosign simple-signing document naming {@code expected}, and its version claim, if
   * any, is {@code version}. The signature is checked before the payload's content is read, so
   * nothing an attacker wrote is interpreted.
   */
  public static Verdict verify(
      List<SignedPayload> published, List<TrustedKey> keys, Sha256 expected, String version) {
    List<String> findings = new ArrayList<>();
    for (SignedPayload p : published) {
      if (p.problem() != null) {
        findings.add(p.origin() + ": " + p.problem());
        continue;
      }
      byte[] payload = p.payload();
      TrustedKey signer = null;
      for (TrustedKey k : keys) {
        if (valid(k.key(), payload, p.signature())) {
          signer = k;
          break;
        }
      }
      if (signer == null) {
        findings.add(
            p.origin()
                + ": not signed by any trusted key (signed by another key, or the signed document"
                + " was altered after signing)");
        continue;
      }
      SimpleSigning statement;
      try {
        statement = SimpleSigning.parse(payload);
      } catch (IllegalArgumentException e) {
        findings.add(
            p.origin()
                + ": signed by "
                + signer.name()
                + " but not a cosign simple-signing document: "
                + e.getMessage());
        continue;
      }
      if (!statement.digest().equals(expected)) {
        findings.add(
            p.origin()
                + ": signed by "
                + signer.name()
                + " for "
                + statement.digest()
                + ", not for the requested "
                + expected);
        continue;
      }
      if (version != null
          && statement.version().isPresent()
          && !statement.version().get().equals(version)) {
        findings.add(
            p.origin()
                + ": signed by "
                + signer.name()
                + " for version "
                + statement.version().get()
                + ", not for the requested version "
                + version);
        continue;
      }
      return new Verdict(Optional.of(new Accepted(signer, statement, p.origin())), findings);
    }
    return new Verdict(Optional.empty(), findings);
  }
}
