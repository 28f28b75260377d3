package dev.kubeos.agent.settings.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Edits block-style YAML maps at the line level: only the lines of the changed key are touched, so
 * comments and every other line stay byte-for-byte. New keys go at the end of their parent map; new
 * lists use the {@code - item} style of kubeadm's output. The engine checks the result parses to
 * the tree {@link TreeEdit} predicts.
 */
public final class YamlText {
  private static final Pattern KEY =
      Pattern.compile(
          "^( *)(\"(?:[^\"\\\\]|\\\\.)*\"|'[^']*'|[^\\s#'\"{\\[-][^:#]*?|-[^\\s:#][^:#]*?)\\s*:(?=\\s|$)(.*)$");

  /** What a YAML 1.1 or 1.2 parser may read as a number (such strings are quoted). */
  private static final String NUMERIC =
      "[-+]?(\\.[0-9]+|[0-9][0-9_]*(\\.[0-9_]*)?)([eE][-+]?[0-9]+)?|[-+]?\\.(inf|Inf|INF)"
          + "|\\.(nan|NaN|NAN)|0x[0-9a-fA-F_]+|0o?[0-7_]+|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\\.[0-9_]*)?";

  private YamlText() {}

  public static String apply(String model, String text, TreeEdit.Leaf leaf) {
    Lines lines = Lines.of(text);
    List<String> path = leaf.path();
    int from = 0;
    int to = lines.size();
    int parentIndent = -2;
    for (int i = 0; i < path.size(); i++) {
      int childIndent = childIndent(lines, from, to, parentIndent + 2);
      int at = find(lines, from, to, childIndent, path.get(i));
      if (at < 0) {
        if (leaf.operation() == ChangeOperation.DELETE) {
          return text;
        }
        int insertAt = lastContent(lines, from, to) + 1;
        if (insertAt == 0 && from > 0) {
          insertAt = from;
        }
        insert(lines, insertAt, childIndent, path.subList(i, path.size()), leaf.value());
        return lines.text();
      }
      int end = blockEnd(lines, at, childIndent);
      String inline = valueText(lines.get(at));
      if (i == path.size() - 1) {
        replace(model, lines, at, end, childIndent, leaf, inline);
        return lines.text();
      }
      if (inline.equals("{}")) {
        Matcher m = KEY.matcher(lines.get(at));
        m.matches();
        lines.set(at, m.group(1) + m.group(2) + ":");
      } else if (!inline.isEmpty() && !inline.equals("~") && !inline.equals("null")) {
        throw Invalid.of(
            model,
            KeyPath.render(path),
            KeyPath.render(path.subList(0, i + 1)) + " holds '" + inline + "', not a block map");
      }
      from = at + 1;
      to = end;
      parentIndent = childIndent;
    }
    return lines.text();
  }

  private static void replace(
      String model, Lines lines, int at, int end, int indent, TreeEdit.Leaf leaf, String inline) {
    JsonNode v = leaf.value();
    if (leaf.operation() == ChangeOperation.DELETE) {
      lines.remove(at, end);
      return;
    }
    boolean blockList = inline.isEmpty() && end > at + 1 && firstItem(lines, at + 1, end) >= 0;
    if (leaf.operation() == ChangeOperation.UPDATE && v.isArray() && blockList) {
      int itemIndent = Lines.indent(lines.get(firstItem(lines, at + 1, end)));
      int pos = lastContent(lines, at + 1, end) + 1;
      for (JsonNode item : v) {
        pos = item(lines, pos, itemIndent, item);
      }
      return;
    }
    if (leaf.operation() == ChangeOperation.UPDATE
        && v.isArray()
        && inline.startsWith("[")
        && inline.endsWith("]")) {
      String body = inline.substring(1, inline.length() - 1).strip();
      StringBuilder b = new StringBuilder(body);
      for (JsonNode item : v) {
        b.append(b.length() == 0 ? "" : ", ").append(flow(item));
      }
      setInline(lines, at, "[" + b + "]");
      return;
    }
    if (v.isValueNode() && end == at + 1 && !inline.isEmpty()) {
      setInline(lines, at, scalar(v));
      return;
    }
    Matcher m = KEY.matcher(lines.get(at));
    m.matches();
    lines.remove(at, end);
    renderKey(lines, at, indent, m.group(2), v);
  }

  private static void setInline(Lines lines, int at, String value) {
    Matcher m = KEY.matcher(lines.get(at));
    m.matches();
    String rest = m.group(3);
    int hash = commentStart(rest);
    String old = hash < 0 ? rest : rest.substring(0, hash);
    String lead = old.substring(0, old.length() - old.stripLeading().length());
    String gap = hash < 0 ? "" : old.substring(old.stripTrailing().length());
    String comment = hash < 0 ? "" : (gap.isEmpty() ? " " : gap) + rest.substring(hash);
    lines.set(at, m.group(1) + m.group(2) + ":" + (lead.isEmpty() ? " " : lead) + value + comment);
  }

  private static void insert(Lines lines, int at, int indent, List<String> path, JsonNode value) {
    for (int i = 0; i < path.size() - 1; i++) {
      lines.insert(at++, " ".repeat(indent) + key(path.get(i)) + ":");
      indent += 2;
    }
    renderKey(lines, at, indent, key(path.get(path.size() - 1)), value);
  }

  /** Renders {@code key: value} at {@code at}; returns the index after the inserted lines. */
  private static int renderKey(Lines lines, int at, int indent, String key, JsonNode v) {
    String pad = " ".repeat(indent);
    if (v.isObject() && v.size() > 0) {
      lines.insert(at++, pad + key + ":");
      for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> f = it.next();
        at = renderKey(lines, at, indent + 2, key(f.getKey()), f.getValue());
      }
      return at;
    }
    if (v.isArray() && v.size() > 0) {
      lines.insert(at++, pad + key + ":");
      for (JsonNode item : v) {
        at = item(lines, at, indent, item);
      }
      return at;
    }
    lines.insert(at++, pad + key + ": " + flow(v));
    return at;
  }

  private static int item(Lines lines, int at, int indent, JsonNode item) {
    String pad = " ".repeat(indent);
    if (item.isObject() && item.size() > 0) {
      int start = at;
      for (Iterator<Map.Entry<String, JsonNode>> it = item.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> f = it.next();
        at = renderKey(lines, at, indent + 2, key(f.getKey()), f.getValue());
      }
      lines.set(start, pad + "- " + lines.get(start).substring(indent + 2));
      return at;
    }
    lines.insert(at++, pad + "- " + flow(item));
    return at;
  }

  /** A value on one line: scalars plain or double-quoted, collections in flow style (JSON). */
  static String flow(JsonNode v) {
    return v.isValueNode() ? scalar(v) : v.toString();
  }

  static String scalar(JsonNode v) {
    if (v.isNull()) {
      return "null";
    }
    if (!v.isTextual()) {
      return v.asText();
    }
    String s = v.asText();
    boolean plain =
        s.matches("[A-Za-z0-9_/.][A-Za-z0-9_./@%+-]*")
            && !s.matches(NUMERIC)
            && !s.toLowerCase().matches("y|n|yes|no|on|off|true|false|null|~");
    return plain ? s : v.toString();
  }

  static String key(String k) {
    return k.matches("[A-Za-z_][A-Za-z0-9_.-]*") ? k : "\"" + k.replace("\"", "\\\"") + "\"";
  }

  private static int childIndent(Lines lines, int from, int to, int dflt) {
    for (int i = from; i < to; i++) {
      if (Lines.content(lines.get(i), "#") && !lines.get(i).startsWith("---")) {
        return Lines.indent(lines.get(i));
      }
    }
    return Math.max(dflt, 0);
  }

  private static int find(Lines lines, int from, int to, int indent, String name) {
    for (int i = from; i < to; i++) {
      String line = lines.get(i);
      if (Lines.indent(line) != indent || !Lines.content(line, "#")) {
        continue;
      }
      Matcher m = KEY.matcher(line);
      if (m.matches() && unquote(m.group(2)).equals(name)) {
        return i;
      }
    }
    return -1;
  }

  private static int blockEnd(Lines lines, int at, int indent) {
    int end = at + 1;
    for (int i = at + 1; i < lines.size(); i++) {
      String line = lines.get(i);
      if (!Lines.content(line, "#")) {
        continue;
      }
      int ind = Lines.indent(line);
      boolean item = ind == indent && (line.startsWith("- ", ind) || line.strip().equals("-"));
      if (ind > indent || item) {
        end = i + 1;
      } else {
        break;
      }
    }
    return end;
  }

  private static int firstItem(Lines lines, int from, int to) {
    for (int i = from; i < to; i++) {
      String t = lines.get(i).strip();
      if (Lines.content(t, "#")) {
        return t.startsWith("- ") || t.equals("-") ? i : -1;
      }
    }
    return -1;
  }

  private static int lastContent(Lines lines, int from, int to) {
    for (int i = to - 1; i >= from; i--) {
      if (Lines.content(lines.get(i), "#")) {
        return i;
      }
    }
    return from - 1;
  }

  private static String valueText(String line) {
    Matcher m = KEY.matcher(line);
    if (!m.matches()) {
      return "";
    }
    String rest = m.group(3);
    int hash = commentStart(rest);
    return (hash < 0 ? rest : rest.substring(0, hash)).strip();
  }

  private static int commentStart(String rest) {
    boolean dq = false;
    boolean sq = false;
    for (int i = 0; i < rest.length(); i++) {
      char c = rest.charAt(i);
      if (c == '"' && !sq && (i == 0 || rest.charAt(i - 1) != '\\')) {
        dq = !dq;
      } else if (c == '\'' && !dq) {
        sq = !sq;
      } else if (c == '#' && !dq && !sq && (i == 0 || Character.isWhitespace(rest.charAt(i - 1)))) {
        return i;
      }
    }
    return -1;
  }

  private static String unquote(String k) {
    if (k.length() >= 2 && (k.startsWith("\"") || k.startsWith("'"))) {
      return k.substring(1, k.length() - 1).replace("\\\"", "\"");
    }
    return k;
  }
}
