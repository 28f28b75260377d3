package dev.kubeos.formats.settings;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The node-local settings policy shared by the agent (its compiled-in defaults) and the image
 * builder (which installs the same text as {@link #FILE}); the format is read by the agent's {@code
 * SettingsPolicyFile}, documented in docs/settings.md.
 */
public final class DefaultSettingsPolicy {
  /** Where the node's policy lives. */
  public static final Path FILE = Path.of("/etc/KubeOS/settings-policy.json");

  private static final String TEXT = read();

  private DefaultSettingsPolicy() {}

  /** The default policy's text. */
  public static String text() {
    return TEXT;
  }

  private static String read() {
    try (InputStream in = DefaultSettingsPolicy.class.getResourceAsStream("settings-policy.json")) {
      if (in == null) {
        throw new IllegalStateException("settings-policy.json missing from the kubeos-formats jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
