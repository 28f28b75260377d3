package dev.kubeos.agent.settings.model;

import java.util.ArrayList;
import java.util.List;

/**
 * Dotted keys of the YAML and TOML models: {@code a.b.c} addresses nested maps, a double-quoted
 * segment may hold dots: {@code evictionHard."memory.available"}, {@code
 * plugins."io.containerd.grpc.v1.cri".sandbox_image}. Inside quotes, {@code \"} and {@code \\}
 * escape.
 */
public final class KeyPath {
  private KeyPath() {}

  public static List<String> parse(String model, String key) {
    if (key == null || key.isBlank()) {
      throw Invalid.of(model, key, "the key is empty");
    }
    List<String> segments = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    boolean quoted = false;
    boolean wasQuoted = false;
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      if (quoted) {
        if (c == '\\' && i + 1 < key.length()) {
          cur.append(key.charAt(++i));
        } else if (c == '"') {
          quoted = false;
        } else {
          cur.append(c);
        }
      } else if (c == '"' && cur.length() == 0 && !wasQuoted) {
        quoted = true;
        wasQuoted = true;
      } else if (c == '.') {
        add(model, key, segments, cur, wasQuoted);
        cur.setLength(0);
        wasQuoted = false;
      } else if (wasQuoted || Character.isWhitespace(c) || c == '"') {
        throw Invalid.of(model, key, "unexpected '" + c + "' at position " + (i + 1));
      } else {
        cur.append(c);
      }
    }
    if (quoted) {
      throw Invalid.of(model, key, "unterminated double quote");
    }
    add(model, key, segments, cur, wasQuoted);
    return List.copyOf(segments);
  }

  private static void add(
      String model, String key, List<String> segments, StringBuilder cur, boolean quoted) {
    if (cur.length() == 0 && !quoted) {
      throw Invalid.of(model, key, "empty segment (two dots, or a leading/trailing dot)");
    }
    segments.add(cur.toString());
  }

  /** Renders segments back, quoting those that are not bare ({@code [A-Za-z0-9_-]+}). */
  public static String render(List<String> segments) {
    StringBuilder b = new StringBuilder();
    for (String s : segments) {
      if (b.length() > 0) {
        b.append('.');
      }
      b.append(bare(s) ? s : "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"");
    }
    return b.toString();
  }

  public static boolean bare(String s) {
    return !s.isEmpty() && s.matches("[A-Za-z0-9_-]+");
  }
}
