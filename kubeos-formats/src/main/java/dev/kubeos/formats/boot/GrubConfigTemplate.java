package dev.kubeos.formats.boot;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The grub.cfg of the boot contract (resource {@code grub.cfg.in}) and its rendering. The template
 * selects the slot exactly as {@code dev.kubeos.agent.model.BootSelector} does; the image builder
 * fills its placeholders.
 */
public final class GrubConfigTemplate {

  /** Classpath location of the template. */
  public static final String RESOURCE = "/dev/kubeos/formats/boot/grub.cfg.in";

  private static final Pattern PLACEHOLDER = Pattern.compile("@([A-Z][A-Z0-9_]*)@");

  private static final Pattern UUID = Pattern.compile("[0-9A-Fa-f][0-9A-Fa-f-]{3,35}");
  private static final Pattern GPT_INDEX = Pattern.compile("[1-9][0-9]{0,2}");
  private static final Pattern PATH = Pattern.compile("/[A-Za-z0-9._+/-]*");
  // Printable ASCII except the single quote that would end the quoted GRUB string.
  private static final Pattern CMDLINE = Pattern.compile("[\\x20-\\x26\\x28-\\x7e]*");

  /** Every placeholder the template uses, with the values it accepts. */
  private static final Map<String, Pattern> PLACEHOLDERS = placeholders();

  private GrubConfigTemplate() {}

  private static Map<String, Pattern> placeholders() {
    Map<String, Pattern> m = new LinkedHashMap<>();
    m.put("ESP_FS_UUID", UUID);
    m.put("ROOT_A_PARTUUID", UUID);
    m.put("ROOT_B_PARTUUID", UUID);
    m.put("ROOT_A_GPT_INDEX", GPT_INDEX);
    m.put("ROOT_B_GPT_INDEX", GPT_INDEX);
    m.put("KERNEL", PATH);
    m.put("INITRD", PATH);
    m.put("CMDLINE", CMDLINE);
    return Map.copyOf(m);
  }

  /** The names of the placeholders (without the {@code @}). */
  public static Set<String> placeholderNames() {
    return new TreeSet<>(PLACEHOLDERS.keySet());
  }

  /** The raw template text. */
  public static String template() {
    try (InputStream in = GrubConfigTemplate.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("resource " + RESOURCE + " is missing from the agent jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + RESOURCE, e);
    }
  }

  /**
   * Fills the template. Keys are placeholder names without {@code @} (e.g. {@code KERNEL}).
   *
   * @throws IllegalArgumentException when a key is not a placeholder of the template, a placeholder
   *     has no value, or a value is not acceptable for its placeholder (UUIDs: hex and dashes; GPT
   *     indexes: 1..999; KERNEL/INITRD: absolute paths of safe characters; CMDLINE: printable ASCII
   *     without a single quote)
   */
  public static String render(Map<String, String> values) {
    Set<String> unknown = new TreeSet<>(values.keySet());
    unknown.removeAll(PLACEHOLDERS.keySet());
    if (!unknown.isEmpty()) {
      throw new IllegalArgumentException(
          "unknown grub.cfg placeholder(s) " + unknown + "; known: " + placeholderNames());
    }
    Set<String> missing = new TreeSet<>(PLACEHOLDERS.keySet());
    missing.removeAll(values.keySet());
    if (!missing.isEmpty()) {
      throw new IllegalArgumentException("grub.cfg placeholder(s) without a value: " + missing);
    }
    for (Map.Entry<String, String> e : values.entrySet()) {
      String v = e.getValue();
      if (v == null || !PLACEHOLDERS.get(e.getKey()).matcher(v).matches()) {
        throw new IllegalArgumentException(
            "value for grub.cfg placeholder "
                + e.getKey()
                + " is not acceptable: '"
                + v
                + "' (expected "
                + PLACEHOLDERS.get(e.getKey()).pattern()
                + ")");
      }
    }
    Matcher m = PLACEHOLDER.matcher(template());
    StringBuilder out = new StringBuilder();
    Set<String> unfilled = new TreeSet<>();
    while (m.find()) {
      String value = values.get(m.group(1));
      if (value == null) {
        unfilled.add(m.group(1));
        value = m.group();
      }
      m.appendReplacement(out, Matcher.quoteReplacement(value));
    }
    m.appendTail(out);
    if (!unfilled.isEmpty()) {
      throw new IllegalStateException(
          "grub.cfg template uses placeholder(s) the renderer does not know: " + unfilled);
    }
    return out.toString();
  }
}
