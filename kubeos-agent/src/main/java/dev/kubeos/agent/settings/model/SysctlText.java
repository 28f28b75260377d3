package dev.kubeos.agent.settings.model;

/**
 * Edits sysctl.conf-style text ({@code key = value} lines, {@code #} and {@code ;} comments) line
 * by line; every other line stays byte-for-byte.
 *
 * <p>Update rewrites the value of the last line setting the key (keeping its spacing around {@code
 * =}); earlier duplicates are left alone (the last line wins for sysctl too); a new key is appended
 * as {@code key=value}, as upstream writes it. Delete follows upstream: it removes the key's lines
 * only when their value equals the given one.
 */
public final class SysctlText {
  public static final String MODEL = "kernel.sysctl.persist";

  private SysctlText() {}

  /** Checks a sysctl key (dots or slashes between segments, no spaces, no {@code =}). */
  public static void checkKey(String model, String key) {
    if (key == null || !key.matches("[A-Za-z0-9_*-]+([./][A-Za-z0-9_*:@-]+)*")) {
      throw Invalid.of(model, key, "not a sysctl key (expected e.g. net.ipv4.ip_forward)");
    }
  }

  /** Checks a scalar value without line breaks. */
  public static void checkValue(String model, SettingChange c) {
    if (!c.scalar()) {
      throw Invalid.of(
          model, c.key(), "value of the wrong type: expected a string or number, got " + c.value());
    }
    if (c.text().contains("\n")) {
      throw Invalid.of(model, c.key(), "the value contains a line break");
    }
  }

  public static String apply(String text, SettingChange c) {
    checkKey(MODEL, c.key());
    checkValue(MODEL, c);
    Lines lines = Lines.of(text);
    String value = normalize(c.text());
    if (c.operation() == ChangeOperation.DELETE) {
      for (int i = lines.size() - 1; i >= 0; i--) {
        String[] kv = split(lines.get(i));
        if (kv != null && kv[0].equals(c.key()) && normalize(kv[1]).equals(value)) {
          lines.remove(i, i + 1);
        }
      }
      return lines.text();
    }
    if (value.isEmpty()) {
      throw Invalid.of(MODEL, c.key(), "empty value (use operation delete to remove a key)");
    }
    for (int i = lines.size() - 1; i >= 0; i--) {
      String line = lines.get(i);
      String[] kv = split(line);
      if (kv != null && kv[0].equals(c.key())) {
        if (!normalize(kv[1]).equals(value)) {
          int eq = line.indexOf('=');
          String after = line.substring(eq + 1);
          String lead = after.substring(0, after.length() - after.stripLeading().length());
          lines.set(i, line.substring(0, eq + 1) + lead + c.text().strip());
        }
        return lines.text();
      }
    }
    lines.insert(lines.size(), c.key() + "=" + c.text().strip());
    return lines.text();
  }

  /** {@code [key, value]} of a setting line, or null for comments, blanks and other lines. */
  static String[] split(String line) {
    String t = line.strip();
    if (t.isEmpty() || t.startsWith("#") || t.startsWith(";")) {
      return null;
    }
    int eq = t.indexOf('=');
    if (eq <= 0) {
      return null;
    }
    String key = t.substring(0, eq).strip();
    if (key.startsWith("-")) {
      key = key.substring(1).strip();
    }
    return new String[] {key, t.substring(eq + 1).strip()};
  }

  /** Values compare with runs of blanks as one space (the kernel prints tabs). */
  public static String normalize(String v) {
    return v.strip().replaceAll("\\s+", " ");
  }
}
