package dev.kubeos.agent.settings;

import dev.kubeos.agent.settings.model.KeyPath;
import java.math.BigInteger;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The rule kinds of {@link SettingsPolicy} and how each matches (pure). */
final class PolicyRules {
  private PolicyRules() {}

  /**
   * A sysctl rule: {@code *} (every key), a key or prefix ({@code net}, {@code
   * kernel.core_pattern}: the key itself and every key below it), optionally with {@code =value}
   * (then only that key with that value; integers compare by value, so {@code 0}, {@code 00},
   * {@code 0x0} and {@code -0} are all 0). Keys compare by segments, {@code .} and {@code /} alike,
   * as sysctl.conf does.
   */
  record SysctlRule(String text, String key, String value) implements SettingsPolicy.Rule {
    private static final Pattern KEY = Pattern.compile("[A-Za-z0-9_-]+([./][A-Za-z0-9_:@-]+)*");

    static SysctlRule parse(String text, String where) {
      int eq = text.indexOf('=');
      String key = (eq < 0 ? text : text.substring(0, eq)).strip();
      String value = eq < 0 ? null : text.substring(eq + 1).strip();
      if (!key.equals("*") && !KEY.matcher(key).matches()) {
        throw new IllegalArgumentException(
            "'" + where + "' entry '" + text + "': not a sysctl key or prefix (or *)");
      }
      if (key.equals("*") && value != null) {
        throw new IllegalArgumentException(
            "'" + where + "' entry '" + text + "': * takes no value");
      }
      return new SysctlRule(text, key.equals("*") ? "*" : dotted(key), value);
    }

    /**
     * Whether the key (possibly a sysctl.d glob with {@code *}) may set what this rule names: for a
     * glob, whenever the glob could reach this rule's key (deny rules err on the refusing side).
     */
    boolean mayMatch(String key, String actual) {
      if (this.key.equals("*")) {
        return true;
      }
      String k = dotted(key);
      int star = k.indexOf('*');
      boolean keyMatch;
      if (star < 0) {
        keyMatch = value != null ? k.equals(this.key) : within(k, this.key);
      } else {
        String prefix = k.substring(0, star);
        keyMatch = this.key.startsWith(prefix) || prefix.startsWith(this.key + ".");
      }
      return keyMatch && (value == null || Values.same(value, actual));
    }

    /** Whether the key lies entirely inside what this (allow) rule names. */
    boolean covers(String key, String actual) {
      if (this.key.equals("*")) {
        return true;
      }
      String k = dotted(key);
      int star = k.indexOf('*');
      if (star >= 0) {
        return value == null && k.substring(0, star).startsWith(this.key + ".");
      }
      return value != null ? k.equals(this.key) && Values.same(value, actual) : within(k, this.key);
    }

    private static boolean within(String key, String prefix) {
      return key.equals(prefix) || key.startsWith(prefix + ".");
    }

    /**
     * The key with every {@code /} as {@code .} (segments are what counts) and without the {@code
     * -} prefix with which sysctl.conf ignores a failure.
     */
    static String dotted(String key) {
      String k = key.strip();
      return (k.startsWith("-") ? k.substring(1) : k).replace('/', '.');
    }
  }

  /**
   * A kernel command-line rule: a parameter name, where {@code *} matches any characters ({@code
   * *}, {@code kubeos.*}, {@code -*}), optionally with {@code =value}. Names compare with {@code -}
   * and {@code _} alike, as the kernel and systemd do.
   */
  record CmdlineRule(String text, Pattern name, String value) implements SettingsPolicy.Rule {
    static CmdlineRule parse(String text, String where) {
      int eq = text.indexOf('=');
      String name = (eq < 0 ? text : text.substring(0, eq)).strip();
      String value = eq < 0 ? null : text.substring(eq + 1).strip();
      if (!name.matches("[A-Za-z0-9_.:/,*-]+")) {
        throw new IllegalArgumentException(
            "'" + where + "' entry '" + text + "': not a kernel parameter name (or a * pattern)");
      }
      String regex =
          String.join(
              ".*",
              java.util.Arrays.stream(normalize(name).split("\\*", -1))
                  .map(Pattern::quote)
                  .toList());
      return new CmdlineRule(text, Pattern.compile(regex), value);
    }

    boolean matches(String param, String actual) {
      return name.matcher(normalize(param)).matches()
          && (value == null || Values.same(value, actual == null ? "" : actual));
    }

    private static String normalize(String name) {
      return name.replace('-', '_');
    }
  }

  /**
   * A key rule of a YAML/TOML model: a dotted key ({@code authorization}, {@code
   * plugins.*.cni.bin_dir}) where an unquoted {@code *} segment matches any one segment. It matches
   * the key itself, every key below it, and every key above it (setting or deleting a parent map
   * sets or resets the denied key too). Segments compare ignoring case, as the Go decoders of
   * kubelet and containerd match fields.
   */
  record KeyRule(String text, List<String> segments) implements SettingsPolicy.Rule {
    static KeyRule parse(String text, String where) {
      try {
        return new KeyRule(text, KeyPath.parse(where, text));
      } catch (dev.kubeos.api.agent.AgentException e) {
        throw new IllegalArgumentException(
            "'" + where + "' entry '" + text + "': not a dotted key (" + e.getMessage() + ")");
      }
    }

    boolean overlaps(List<String> key) {
      for (int i = 0; i < Math.min(key.size(), segments.size()); i++) {
        String r = segments.get(i);
        if (!r.equals("*") && !r.equalsIgnoreCase(key.get(i))) {
          return false;
        }
      }
      return true;
    }
  }

  /** A path pattern: absolute, {@code *} matches within one path segment. */
  static final class PathRule {
    private PathRule() {}

    /** Returns the pattern when it is usable; throws {@link IllegalArgumentException} otherwise. */
    static String check(String pattern, String where) {
      String bad = null;
      if (!pattern.startsWith("/")) {
        bad = "must be absolute";
      } else if (List.of(pattern.substring(1).split("/", -1)).stream()
          .anyMatch(s -> s.isEmpty() || s.equals(".") || s.equals(".."))) {
        bad = "may not contain empty, '.' or '..' segments";
      } else if (PathPolicy.ALLOWED.stream().noneMatch(a -> pattern.startsWith(a + "/"))) {
        bad = "is outside the directories settings may ever write " + PathPolicy.ALLOWED;
      } else if (PathPolicy.refused(pattern)) {
        bad = "is inside " + PathPolicy.NEVER + ", which settings may never write";
      }
      if (bad != null) {
        throw new IllegalArgumentException("'" + where + "' entry '" + pattern + "' " + bad);
      }
      return pattern;
    }

    static boolean matches(String pattern, String path) {
      String regex =
          String.join(
              "[^/]*",
              java.util.Arrays.stream(pattern.split("\\*", -1)).map(Pattern::quote).toList());
      return path.matches(regex);
    }
  }

  /** Value comparison for {@code =value} rules. */
  static final class Values {
    private static final Pattern INTEGER =
        Pattern.compile("([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)");

    private Values() {}

    /**
     * Whether {@code actual} is the rule's value: integers by value, reading the leading integer of
     * {@code actual} as the kernel's lenient parsers do (base prefixes, sign, trailing rest
     * ignored); other values as text with blanks normalised.
     */
    static boolean same(String rule, String actual) {
      if (actual == null) {
        return false;
      }
      BigInteger want = integer(rule, true);
      if (want != null) {
        BigInteger got = integer(actual, false);
        return want.equals(got);
      }
      return rule.strip().replaceAll("\\s+", " ").equals(actual.strip().replaceAll("\\s+", " "));
    }

    static BigInteger integer(String text, boolean whole) {
      String t = text.strip();
      Matcher m = INTEGER.matcher(t);
      if (!(whole ? m.matches() : m.lookingAt())) {
        return null;
      }
      String digits = m.group(2);
      BigInteger v;
      if (digits.startsWith("0x") || digits.startsWith("0X")) {
        v = new BigInteger(digits.substring(2), 16);
      } else if (digits.length() > 1 && digits.startsWith("0")) {
        v = new BigInteger(digits.substring(1), 8);
      } else {
        v = new BigInteger(digits);
      }
      return m.group(1).equals("-") ? v.negate() : v;
    }
  }
}
