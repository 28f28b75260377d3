package dev.kubeos.agent.settings.model;

import java.util.ArrayList;
import java.util.List;

/** Lexing of TOML keys and value extents, enough for line-level editing. */
final class TomlKeys {
  private TomlKeys() {}

  /** Key segments and the index after the key and its trailing blanks. */
  record Parsed(List<String> segments, int end) {}

  /**
   * Parses a dotted key at {@code from}; for a header ({@code from} 1 or 2 on a stripped line) also
   * requires the closing brackets. Null when the text is no key.
   */
  static Parsed parse(String s, int from) {
    boolean header = s.startsWith("[") && (from == 1 || from == 2) && s.charAt(0) == '[';
    List<String> segs = new ArrayList<>();
    int i = skip(s, from);
    while (true) {
      if (i >= s.length()) {
        return null;
      }
      char c = s.charAt(i);
      StringBuilder seg = new StringBuilder();
      if (c == '"' || c == '\'') {
        int j = i + 1;
        while (j < s.length() && s.charAt(j) != c) {
          if (c == '"' && s.charAt(j) == '\\' && j + 1 < s.length()) {
            j++;
          }
          seg.append(s.charAt(j++));
        }
        if (j >= s.length()) {
          return null;
        }
        i = j + 1;
      } else {
        int j = i;
        while (j < s.length()
            && (Character.isLetterOrDigit(s.charAt(j)) || "_-".indexOf(s.charAt(j)) >= 0)) {
          seg.append(s.charAt(j++));
        }
        if (j == i) {
          return null;
        }
        i = j;
      }
      segs.add(seg.toString());
      i = skip(s, i);
      if (i < s.length() && s.charAt(i) == '.') {
        i = skip(s, i + 1);
        continue;
      }
      break;
    }
    if (header) {
      String close = from == 2 ? "]]" : "]";
      if (!s.startsWith(close, i)) {
        return null;
      }
      i += close.length();
    }
    return new Parsed(List.copyOf(segs), i);
  }

  private static int skip(String s, int i) {
    while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\t')) {
      i++;
    }
    return i;
  }

  /**
   * The extent of a value starting at (line, col): {endLine, endCol, lastLine, lastCol} where end
   * is just after the value and last is just after the significant character before the value's
   * final character (for arrays: the last item or comma before {@code ]}).
   */
  static int[] scanValue(Lines lines, int line, int col) {
    int depth = 0;
    int[] last = {line, col};
    int[] prev = {line, col};
    for (int l = line; l < lines.size(); l++) {
      String s = lines.get(l);
      int c = l == line ? col : 0;
      while (c < s.length()) {
        char ch = s.charAt(c);
        if (ch == '#') {
          break;
        }
        if (ch == ' ' || ch == '\t' || ch == '\r') {
          c++;
          continue;
        }
        prev = last;
        if (ch == '"' || ch == '\'') {
          String triple = String.valueOf(ch).repeat(3);
          if (s.startsWith(triple, c)) {
            int[] endPos = closeMultiline(lines, l, c + 3, triple);
            l = endPos[0];
            s = lines.get(l);
            c = endPos[1];
          } else {
            int j = c + 1;
            while (j < s.length() && s.charAt(j) != ch) {
              j += ch == '"' && s.charAt(j) == '\\' ? 2 : 1;
            }
            c = Math.min(j + 1, s.length());
          }
          last = new int[] {l, c};
          continue;
        }
        if (ch == '[' || ch == '{') {
          depth++;
        } else if (ch == ']' || ch == '}') {
          depth--;
        }
        c++;
        last = new int[] {l, c};
      }
      if (depth <= 0) {
        return new int[] {last[0], last[1], prev[0], prev[1]};
      }
    }
    return new int[] {last[0], last[1], prev[0], prev[1]};
  }

  private static int[] closeMultiline(Lines lines, int l, int c, String triple) {
    for (; l < lines.size(); l++, c = 0) {
      int k = lines.get(l).indexOf(triple, c);
      if (k >= 0) {
        int end = k + 3;
        while (end < lines.get(l).length() && lines.get(l).charAt(end) == triple.charAt(0)) {
          end++;
        }
        return new int[] {l, end};
      }
    }
    return new int[] {lines.size() - 1, lines.get(lines.size() - 1).length()};
  }
}
