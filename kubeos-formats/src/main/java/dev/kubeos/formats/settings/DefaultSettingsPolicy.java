package dev.kubeos.formats.settings;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Where a node's settings policy lives and the compiled-in default policy: the agent applies the
 * defaults when the file is missing, and the image builder installs the same text there.
 */
public final class DefaultSettingsPolicy {
  /** The node's settings policy file (JSON or YAML). */
  public static final Path FILE = Path.of("/etc/KubeOS/settings-policy.json");

  private static final String TEXT = read();

  private DefaultSettingsPolicy() {}

  /** The text of the default policy (JSON). */
  public static String text() {
    return TEXT;
  }

  private static String read() {
    try (InputStream in = DefaultSettingsPolicy.class.getResourceAsStream("settings-policy.json")) {
      if (in == null) {
        throw new IllegalStateException("settings-policy.json missing from the formats jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
