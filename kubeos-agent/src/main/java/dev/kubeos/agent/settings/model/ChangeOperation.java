package dev.kubeos.agent.settings.model;

import java.util.Locale;

/** What a content entry does: upstream's {@code ""} (add/update) and {@code delete}, plus ours. */
public enum ChangeOperation {
  /** Add or update ({@code ""}, {@code add}, {@code update}); arrays are appended to. */
  UPDATE,
  /** Remove the key. */
  DELETE,
  /** Ours: set the value as given, replacing a whole array instead of appending to it. */
  REPLACE;

  /** Parses the wire value; null and {@code ""} mean add/update. */
  public static ChangeOperation parse(String model, String key, String text) {
    if (text == null
        || text.isBlank()
        || text.equalsIgnoreCase("update")
        || text.equalsIgnoreCase("add")) {
      return UPDATE;
    }
    switch (text.trim().toLowerCase(Locale.ROOT)) {
      case "delete":
        return DELETE;
      case "replace":
        return REPLACE;
      default:
        throw Invalid.of(
            model, key, "unknown operation '" + text + "' (expected \"\", delete or replace)");
    }
  }
}
