package dev.kubeos.agent.settings.model;

import dev.kubeos.agent.model.KernelCmdline;
import java.util.ArrayList;
import java.util.List;

/**
 * Edits a kernel command line (space-separated {@code key} or {@code key=value} parameters). Update
 * replaces every parameter with the key by one at the first one's place, or appends; delete removes
 * the key's parameters whose value equals the given one (upstream: an empty value matches only a
 * bare parameter). An empty value on update makes the parameter bare.
 */
public final class CmdlineText {
  private CmdlineText() {}

  public static String apply(String model, String cmdline, SettingChange c) {
    String key = c.key();
    if (key == null || !key.matches("[A-Za-z0-9_.:/,-]+")) {
      throw Invalid.of(model, key, "not a kernel parameter name (letters, digits, _ . : / , -)");
    }
    if (key.equals(KernelCmdline.SLOT_PARAM) || key.equals("root")) {
      throw Invalid.of(
          model, key, "this parameter belongs to the boot contract and cannot be configured");
    }
    if (!c.scalar()) {
      throw Invalid.of(model, key, "value of the wrong type: expected a string, got " + c.value());
    }
    String value = c.text().strip();
    if (!value.matches("[^\\s\"'$\\\\;{}`]*")) {
      throw Invalid.of(
          model, key, "the value may not contain blanks, quotes or any of $ \\ ; { } `");
    }
    List<String> out = new ArrayList<>();
    boolean placed = false;
    String param = value.isEmpty() ? key : key + "=" + value;
    for (String token : cmdline.strip().split("\\s+")) {
      if (token.isEmpty()) {
        continue;
      }
      int eq = token.indexOf('=');
      String k = eq < 0 ? token : token.substring(0, eq);
      String v = eq < 0 ? "" : token.substring(eq + 1);
      if (!k.equals(key)) {
        out.add(token);
      } else if (c.operation() == ChangeOperation.DELETE) {
        if (!v.equals(value)) {
          out.add(token);
        }
      } else if (!placed) {
        out.add(param);
        placed = true;
      }
    }
    if (c.operation() != ChangeOperation.DELETE && !placed) {
      out.add(param);
    }
    return String.join(" ", out);
  }
}
