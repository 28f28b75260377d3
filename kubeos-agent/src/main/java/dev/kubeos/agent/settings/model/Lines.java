package dev.kubeos.agent.settings.model;

import java.util.ArrayList;
import java.util.List;

/** A text file as lines (without their '\n'); joining gives back the same bytes. */
public final class Lines {
  private final List<String> lines;
  private boolean finalNewline;

  private Lines(List<String> lines, boolean finalNewline) {
    this.lines = lines;
    this.finalNewline = finalNewline;
  }

  public static Lines of(String text) {
    List<String> out = new ArrayList<>();
    if (text == null || text.isEmpty()) {
      return new Lines(out, true);
    }
    int start = 0;
    for (int i = 0; i < text.length(); i++) {
      if (text.charAt(i) == '\n') {
        out.add(text.substring(start, i));
        start = i + 1;
      }
    }
    boolean nl = start == text.length();
    if (!nl) {
      out.add(text.substring(start));
    }
    return new Lines(out, nl);
  }

  public List<String> list() {
    return lines;
  }

  public int size() {
    return lines.size();
  }

  public String get(int i) {
    return lines.get(i);
  }

  public void set(int i, String line) {
    lines.set(i, line);
  }

  /** Inserts a line; a line added at the end gets a final newline. */
  public void insert(int i, String line) {
    if (i == lines.size()) {
      finalNewline = true;
    }
    lines.add(i, line);
  }

  public void remove(int from, int to) {
    lines.subList(from, to).clear();
  }

  public String text() {
    if (lines.isEmpty()) {
      return "";
    }
    return String.join("\n", lines) + (finalNewline ? "\n" : "");
  }

  /** Blank or a comment starting with one of {@code commentChars}. */
  public static boolean content(String line, String commentChars) {
    String t = line.strip();
    return !t.isEmpty() && commentChars.indexOf(t.charAt(0)) < 0;
  }

  public static int indent(String line) {
    int i = 0;
    while (i < line.length() && line.charAt(i) == ' ') {
      i++;
    }
    return i;
  }
}
