package dev.kubeos.formats.digest;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import java.util.Locale;

/** A SHA-256 digest: 64 lower-case hex characters. */
public final class Sha256 {
  private static final String PREFIX = "sha256:";
  private final String hex;

  private Sha256(String hex) {
    this.hex = hex;
  }

  /**
   * Parses {@code 64 hex chars}, optionally prefixed {@code sha256:}, in any case.
   *
   * @throws AgentException INVALID_REQUEST naming what was given
   */
  public static Sha256 parse(String text) {
    if (text == null) {
      throw new AgentException(
          ErrorCode.INVALID_REQUEST, "sha256 digest is missing: expected 64 hex characters");
    }
    String s = text.trim();
    if (s.regionMatches(true, 0, PREFIX, 0, PREFIX.length())) {
      s = s.substring(PREFIX.length());
    }
    if (s.length() != 64 || !isHex(s)) {
      String shown = text.length() > 80 ? text.substring(0, 80) + "..." : text;
      throw new AgentException(
          ErrorCode.INVALID_REQUEST,
          "invalid sha256 digest '"
              + shown
              + "': expected 64 hex characters, optionally prefixed 'sha256:' (got "
              + s.length()
              + " characters"
              + (isHex(s) ? "" : ", not all hex")
              + ")");
    }
    return new Sha256(s.toLowerCase(Locale.ROOT));
  }

  /** The digest of raw bytes as computed by {@code MessageDigest("SHA-256")}. */
  public static Sha256 of(byte[] digest) {
    if (digest.length != 32) {
      throw new IllegalArgumentException("SHA-256 digest must be 32 bytes, got " + digest.length);
    }
    StringBuilder sb = new StringBuilder(64);
    for (byte b : digest) {
      sb.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
    }
    return new Sha256(sb.toString());
  }

  private static boolean isHex(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (Character.digit(s.charAt(i), 16) < 0) {
        return false;
      }
    }
    return true;
  }

  /** 64 lower-case hex characters. */
  public String hex() {
    return hex;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Sha256 other && other.hex.equals(hex);
  }

  @Override
  public int hashCode() {
    return hex.hashCode();
  }

  /** {@code sha256:<hex>}. */
  @Override
  public String toString() {
    return PREFIX + hex;
  }
}
