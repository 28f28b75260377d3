package dev.kubeos.agent.settings.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Edits TOML at the line level: a key's value is replaced in place (its comment kept), arrays are
 * appended to inside their brackets, new keys go at the end of their table, and a key whose table
 * does not exist gets a new {@code [table]} at the end of the file. Every other byte stays. The
 * engine checks the result parses to the tree {@link TreeEdit} predicts.
 */
public final class TomlText {
  private TomlText() {}

  record Entry(List<String> path, int line, int valueCol, int[] span) {}

  record Section(List<String> path, boolean array, int header, int end) {}

  public static String apply(String model, String text, TreeEdit.Leaf leaf) {
    Lines lines = Lines.of(text);
    List<Section> sections = new ArrayList<>();
    List<Entry> entries = new ArrayList<>();
    scanFile(model, lines, sections, entries);
    List<String> path = leaf.path();
    for (int i = entries.size() - 1; i >= 0; i--) {
      Entry e = entries.get(i);
      if (e.path().equals(path)) {
        edit(model, lines, e, leaf);
        return lines.text();
      }
    }
    boolean isTable = sections.stream().anyMatch(s -> s.path().equals(path) && s.header() >= 0);
    if (isTable) {
      for (int i = sections.size() - 1; i >= 0; i--) {
        Section s = sections.get(i);
        if (s.header() >= 0 && startsWith(s.path(), path)) {
          lines.remove(s.header(), s.end());
        }
      }
      if (leaf.operation() != ChangeOperation.DELETE) {
        return apply(model, lines.text(), leaf);
      }
      return lines.text();
    }
    if (leaf.operation() == ChangeOperation.DELETE) {
      return text;
    }
    List<String> parent = path.subList(0, path.size() - 1);
    String kv = KeyPath.render(List.of(path.get(path.size() - 1))) + " = " + render(model, leaf);
    for (Section s : sections) {
      if (s.path().equals(parent) && !s.array()) {
        int at = s.header() + 1;
        String pad =
            s.header() < 0
                ? ""
                : lines.get(s.header()).substring(0, Lines.indent(lines.get(s.header())));
        for (int i = s.end() - 1; i > s.header(); i--) {
          if (Lines.content(lines.get(i), "#")) {
            at = i + 1;
            pad = lines.get(i).substring(0, Lines.indent(lines.get(i)));
            break;
          }
        }
        if (s.header() < 0 && at == 0 && s.end() < lines.size()) {
          at = s.end();
        }
        lines.insert(at, pad + kv);
        return lines.text();
      }
    }
    if (lines.size() > 0 && !lines.get(lines.size() - 1).isBlank()) {
      lines.insert(lines.size(), "");
    }
    lines.insert(lines.size(), "[" + KeyPath.render(parent) + "]");
    lines.insert(lines.size(), kv);
    return lines.text();
  }

  private static void edit(String model, Lines lines, Entry e, TreeEdit.Leaf leaf) {
    int[] span = e.span();
    int endLine = span[0];
    if (leaf.operation() == ChangeOperation.DELETE) {
      lines.remove(e.line(), endLine + 1);
      return;
    }
    String first = lines.get(e.line());
    boolean array = first.startsWith("[", e.valueCol());
    if (leaf.operation() == ChangeOperation.UPDATE && leaf.value().isArray() && array) {
      String at = lines.get(span[2]);
      char before = at.charAt(span[3] - 1);
      StringBuilder items = new StringBuilder();
      for (JsonNode item : leaf.value()) {
        items.append(items.length() == 0 ? "" : ", ").append(value(model, item));
      }
      if (items.length() == 0) {
        return;
      }
      String sep = before == '[' ? "" : before == ',' ? " " : ", ";
      lines.set(span[2], at.substring(0, span[3]) + sep + items + at.substring(span[3]));
      return;
    }
    String last = lines.get(endLine);
    lines.set(
        e.line(), first.substring(0, e.valueCol()) + render(model, leaf) + last.substring(span[1]));
    if (endLine > e.line()) {
      lines.remove(e.line() + 1, endLine + 1);
    }
  }

  private static String render(String model, TreeEdit.Leaf leaf) {
    return value(model, leaf.value());
  }

  static String value(String model, JsonNode v) {
    if (v == null || v.isNull()) {
      throw Invalid.of(model, null, "value of the wrong type: TOML has no null");
    }
    if (v.isArray()) {
      List<String> items = new ArrayList<>();
      v.forEach(i -> items.add(value(model, i)));
      return "[" + String.join(", ", items) + "]";
    }
    if (v.isObject()) {
      List<String> items = new ArrayList<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> f = it.next();
        items.add(KeyPath.render(List.of(f.getKey())) + " = " + value(model, f.getValue()));
      }
      return items.isEmpty() ? "{}" : "{ " + String.join(", ", items) + " }";
    }
    return v.isTextual() ? v.toString() : v.asText();
  }

  private static void scanFile(
      String model, Lines lines, List<Section> sections, List<Entry> entries) {
    List<String> table = List.of();
    boolean array = false;
    int header = -1;
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      String t = line.strip();
      if (!Lines.content(line, "#")) {
        continue;
      }
      if (t.startsWith("[")) {
        sections.add(new Section(table, array, header, i));
        array = t.startsWith("[[");
        TomlKeys.Parsed k = TomlKeys.parse(t, array ? 2 : 1);
        if (k == null) {
          throw Invalid.of(model, null, "line " + (i + 1) + " is not a TOML table header");
        }
        table = k.segments();
        header = i;
        continue;
      }
      int start = line.length() - line.stripLeading().length();
      TomlKeys.Parsed k = TomlKeys.parse(line, start);
      if (k == null || k.end() >= line.length() || line.charAt(k.end()) != '=') {
        continue;
      }
      int col = k.end() + 1;
      while (col < line.length() && (line.charAt(col) == ' ' || line.charAt(col) == '\t')) {
        col++;
      }
      int[] span = TomlKeys.scanValue(lines, i, col);
      List<String> full = new ArrayList<>(table);
      full.addAll(k.segments());
      if (!array) {
        entries.add(new Entry(List.copyOf(full), i, col, span));
      }
      i = span[0];
    }
    sections.add(new Section(table, array, header, lines.size()));
  }

  private static boolean startsWith(List<String> path, List<String> prefix) {
    return path.size() >= prefix.size() && path.subList(0, prefix.size()).equals(prefix);
  }
}
