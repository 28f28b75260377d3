package dev.kubeos.formats.trust;

import java.util.Arrays;
import java.util.Objects;

/**
 * One signature as published: the signed payload bytes and the base64 DER ECDSA signature over
 * them, or, when the published document could not even be read, the reason.
 *
 * @param origin where it came from, for messages ({@code .../rootfs.img.sig #1}, a layer digest)
 * @param payload the exact bytes that were signed (a {@link SimpleSigning} document); null when
 *     {@code problem} is set
 * @param signature base64 of the ASN.1 DER ECDSA signature; null when {@code problem} is set
 * @param problem why this published signature is unusable, or null
 */
public record SignedPayload(String origin, byte[] payload, String signature, String problem) {
  public SignedPayload {
    Objects.requireNonNull(origin, "origin");
    if (problem == null && (payload == null || signature == null)) {
      throw new IllegalArgumentException("payload and signature are required");
    }
    payload = payload == null ? null : payload.clone();
  }

  public static SignedPayload of(String origin, byte[] payload, String signature) {
    return new SignedPayload(origin, payload, signature, null);
  }

  public static SignedPayload unusable(String origin, String problem) {
    return new SignedPayload(origin, null, null, problem);
  }

  @Override
  public byte[] payload() {
    return payload == null ? null : payload.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SignedPayload s
        && origin.equals(s.origin)
        && Arrays.equals(payload, s.payload)
        && Objects.equals(signature, s.signature)
        && Objects.equals(problem, s.problem);
  }

  @Override
  public int hashCode() {
    return Objects.hash(origin, Arrays.hashCode(payload), signature, problem);
  }

  @Override
  public String toString() {
    return "SignedPayload[" + origin + (problem == null ? "" : ", " + problem) + "]";
  }
}
