package dev.kubeos.agent.settings.model;

import java.util.ArrayList;
import java.util.List;

/** A unified diff ({@code ---}/{@code +++}, {@code @@} hunks with 3 lines of context). */
public final class UnifiedDiff {
  private static final int CONTEXT = 3;

  private UnifiedDiff() {}

  /** Empty when the texts are equal; {@code before} null means the file did not exist. */
  public static String of(String label, String before, String after) {
    if (before != null && before.equals(after)) {
      return "";
    }
    List<String> a = Lines.of(before == null ? "" : before).list();
    List<String> b = Lines.of(after == null ? "" : after).list();
    int[][] lcs = new int[a.size() + 1][b.size() + 1];
    for (int i = a.size() - 1; i >= 0; i--) {
      for (int j = b.size() - 1; j >= 0; j--) {
        lcs[i][j] =
            a.get(i).equals(b.get(j))
                ? lcs[i + 1][j + 1] + 1
                : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
      }
    }
    List<String> ops = new ArrayList<>(); // ' ', '-', '+' followed by the line
    int i = 0;
    int j = 0;
    while (i < a.size() || j < b.size()) {
      if (i < a.size() && j < b.size() && a.get(i).equals(b.get(j))) {
        ops.add(" " + a.get(i++));
        j++;
      } else if (i < a.size() && (j == b.size() || lcs[i + 1][j] >= lcs[i][j + 1])) {
        ops.add("-" + a.get(i++));
      } else {
        ops.add("+" + b.get(j++));
      }
    }
    StringBuilder out = new StringBuilder();
    out.append("--- ").append(before == null ? "/dev/null" : label).append('\n');
    out.append("+++ ").append(after == null ? "/dev/null" : label).append('\n');
    int k = 0;
    while (k < ops.size()) {
      if (ops.get(k).charAt(0) == ' ') {
        k++;
        continue;
      }
      int start = Math.max(0, k - CONTEXT);
      int end = k;
      int lastChange = k;
      while (end < ops.size() && end - lastChange <= 2 * CONTEXT) {
        if (ops.get(end).charAt(0) != ' ') {
          lastChange = end;
        }
        end++;
      }
      end = Math.min(ops.size(), lastChange + CONTEXT + 1);
      int oldStart = 1;
      int newStart = 1;
      for (int x = 0; x < start; x++) {
        oldStart += ops.get(x).charAt(0) != '+' ? 1 : 0;
        newStart += ops.get(x).charAt(0) != '-' ? 1 : 0;
      }
      int oldLen = 0;
      int newLen = 0;
      for (int x = start; x < end; x++) {
        oldLen += ops.get(x).charAt(0) != '+' ? 1 : 0;
        newLen += ops.get(x).charAt(0) != '-' ? 1 : 0;
      }
      out.append(
          String.format(
              "@@ -%d,%d +%d,%d @@%n",
              oldLen == 0 ? oldStart - 1 : oldStart,
              oldLen,
              newLen == 0 ? newStart - 1 : newStart,
              newLen));
      for (int x = start; x < end; x++) {
        out.append(ops.get(x)).append('\n');
      }
      k = end;
    }
    return out.toString();
  }
}
