package dev.kubeos.agent.settings.model;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;

/** Validation errors that name the model, the key and the reason. Nothing is changed by them. */
public final class Invalid {
  private Invalid() {}

  public static AgentException of(String model, String key, String reason) {
    return new AgentException(
        ErrorCode.INVALID_REQUEST,
        "settings model "
            + model
            + (key == null ? "" : ", key '" + key + "'")
            + ": "
            + reason
            + "; nothing was changed");
  }
}
