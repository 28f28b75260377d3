package dev.kubeos.agent.settings;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Version strings (OS versions and settings versions) are data, never paths: any text upstream
 * accepts works, e.g. {@code "KubeOS 2.0.0"} as its {@code osversion} must equal the node's
 * osImage, and it is recorded as given. Refused: null, blank, longer than {@link #MAX_LENGTH}
 * characters, control characters (NUL, line breaks, ESC, ...), Unicode format and separator
 * characters (bidi overrides that would make log lines lie) and unpaired surrogates. Where a
 * version names a file, {@link #fileName} maps it to a safe name.
 */
public final class Versions {
  /** Upstream versions are short ("KubeOS 1.0.5", "v2"); 256 leaves room and bounds the state. */
  public static final int MAX_LENGTH = 256;

  private static final String SAFE = "[A-Za-z0-9._+~-]{1,64}";

  private Versions() {}

  /** Refuses a version that is not printable text of 1 to {@link #MAX_LENGTH} characters. */
  public static void require(String version) {
    String problem = problem(version);
    if (problem != null) {
      throw new AgentException(
          ErrorCode.INVALID_REQUEST,
          "invalid version "
              + (version == null ? "null" : quote(version))
              + ": "
              + problem
              + " (a version is printable text of 1-"
              + MAX_LENGTH
              + " characters, e.g. \"KubeOS 2.0.0\" or v2)");
    }
  }

  /** Why the version is refused, or null when it is fine. */
  static String problem(String version) {
    if (version == null || version.isBlank()) {
      return "it is empty";
    }
    if (version.length() > MAX_LENGTH) {
      return "it has " + version.length() + " characters";
    }
    for (int i = 0; i < version.length(); ) {
      int cp = version.codePointAt(i);
      if (Character.getType(cp) == Character.SURROGATE) {
        return "it has an unpaired surrogate at index " + i;
      }
      if (!printable(cp)) {
        return String.format("it has the control or format character U+%04X at index %d", cp, i);
      }
      i += Character.charCount(cp);
    }
    return null;
  }

  /**
   * A file-name part for the version: the version itself when it is 1-64 of {@code A-Z a-z 0-9 . _
   * + ~ -} and not {@code .} or {@code ..} (so names stay readable and existing records keep
   * theirs), otherwise {@code sha256-} and the first 32 hex digits of its UTF-8 SHA-256. Never
   * contains a path separator.
   */
  public static String fileName(String version) {
    if (version.matches(SAFE) && !version.equals(".") && !version.equals("..")) {
      return version;
    }
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(version.getBytes(StandardCharsets.UTF_8));
      return "sha256-" + HexFormat.of().formatHex(digest, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static boolean printable(int cp) {
    int type = Character.getType(cp);
    return !Character.isISOControl(cp)
        && type != Character.FORMAT
        && type != Character.LINE_SEPARATOR
        && type != Character.PARAGRAPH_SEPARATOR
        && type != Character.UNASSIGNED
        && type != Character.SURROGATE;
  }

  private static String quote(String version) {
    StringBuilder b = new StringBuilder("'");
    String shown = version.length() > 80 ? version.substring(0, 80) : version;
    shown
        .codePoints()
        .forEach(
            cp -> {
              if (!printable(cp)) {
                b.append(String.format("\\u%04X", cp));
              } else {
                b.appendCodePoint(cp);
              }
            });
    return b.append(version.length() > 80 ? "...'" : "'").toString();
  }
}
