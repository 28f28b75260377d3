package dev.kubeos.agent.settings.model;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One content entry of a model.
 *
 * @param key the key (model specific syntax, see docs/settings.md)
 * @param value any JSON value; null when absent
 * @param operation update (default), delete or replace
 */
public record SettingChange(String key, JsonNode value, ChangeOperation operation) {

  /** The value as text for line-oriented models: strings as is, numbers and booleans printed. */
  public String text() {
    if (value == null || value.isNull()) {
      return "";
    }
    return value.isValueNode() ? value.asText() : value.toString();
  }

  public boolean scalar() {
    return value == null || value.isValueNode();
  }
}
