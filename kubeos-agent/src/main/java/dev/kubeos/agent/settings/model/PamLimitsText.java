package dev.kubeos.agent.settings.model;

import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Edits limits.conf ({@code <domain> <type> <item> <value>} lines). The key is the domain, the
 * value {@code type.item.value}. An entry is identified by domain, type and item; {@code _} in the
 * type or item matches any and keeps the existing field, {@code _} as the value keeps the existing
 * value. Update changes the last matching line in place (its spacing kept) or appends {@code domain
 * type item value}; delete removes the matching lines (with a value other than {@code _}: only
 * those with that value).
 */
public final class PamLimitsText {
  public static final String MODEL = "pam.limits";
  private static final Set<String> TYPES = Set.of("soft", "hard", "-", "_");
  private static final Set<String> ITEMS =
      Set.of(
          "core",
          "data",
          "fsize",
          "memlock",
          "nofile",
          "rss",
          "stack",
          "cpu",
          "nproc",
          "as",
          "maxlogins",
          "maxsyslogins",
          "nonewprivs",
          "priority",
          "locks",
          "sigpending",
          "msgqueue",
          "nice",
          "rtprio",
          "chroot",
          "_");
  private static final Pattern LINE =
      Pattern.compile("^(\\s*)(\\S+)(\\s+)(\\S+)(\\s+)(\\S+)(\\s+)(\\S+)(.*)$");

  private PamLimitsText() {}

  public static String apply(String text, SettingChange c) {
    String domain = c.key();
    if (domain == null || !domain.matches("[A-Za-z0-9_@%*:.-]+") || domain.startsWith("#")) {
      throw Invalid.of(
          MODEL, domain, "not a limits.conf domain (user, @group, %group, *, uid:gid)");
    }
    if (!c.scalar()) {
      throw Invalid.of(MODEL, domain, "value of the wrong type: expected \"type.item.value\"");
    }
    String[] f = c.text().strip().split("\\.", 3);
    if (f.length != 3 || f[2].isEmpty()) {
      throw Invalid.of(
          MODEL,
          domain,
          "value '" + c.text() + "' is not type.item.value (e.g. soft.nofile.65535)");
    }
    if (!TYPES.contains(f[0]) || !ITEMS.contains(f[1]) || !f[2].matches("[A-Za-z0-9_-]+")) {
      throw Invalid.of(
          MODEL,
          domain,
          "value '" + c.text() + "': type must be soft, hard, - or _, item a limits.conf item");
    }
    Lines lines = Lines.of(text);
    if (c.operation() == ChangeOperation.DELETE) {
      for (int i = lines.size() - 1; i >= 0; i--) {
        Matcher m = match(lines.get(i), domain, f);
        if (m != null && (f[2].equals("_") || m.group(8).equals(f[2]))) {
          lines.remove(i, i + 1);
        }
      }
      return lines.text();
    }
    for (int i = lines.size() - 1; i >= 0; i--) {
      Matcher m = match(lines.get(i), domain, f);
      if (m != null) {
        lines.set(
            i,
            m.group(1)
                + m.group(2)
                + m.group(3)
                + keep(f[0], m.group(4))
                + m.group(5)
                + keep(f[1], m.group(6))
                + m.group(7)
                + keep(f[2], m.group(8))
                + m.group(9));
        return lines.text();
      }
    }
    if (List.of(f).contains("_")) {
      throw Invalid.of(
          MODEL,
          domain,
          "'_' keeps an existing field, but no line for "
              + domain
              + " "
              + f[0]
              + " "
              + f[1]
              + " exists");
    }
    lines.insert(lines.size(), domain + " " + f[0] + " " + f[1] + " " + f[2]);
    return lines.text();
  }

  private static Matcher match(String line, String domain, String[] f) {
    if (!Lines.content(line, "#")) {
      return null;
    }
    Matcher m = LINE.matcher(line);
    if (!m.matches() || !m.group(2).equals(domain)) {
      return null;
    }
    boolean type = f[0].equals("_") || m.group(4).equals(f[0]);
    boolean item = f[1].equals("_") || m.group(6).equals(f[1]);
    return type && item ? m : null;
  }

  private static String keep(String wanted, String existing) {
    return wanted.equals("_") ? existing : wanted;
  }
}
