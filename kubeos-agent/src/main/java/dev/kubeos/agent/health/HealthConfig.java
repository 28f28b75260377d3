package dev.kubeos.agent.health;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.net.URI;
import java.time.Duration;
import java.util.List;

/**
 * Post-boot checks, read from a JSON file (default {@code /etc/KubeOS/health.json}, installed by
 * the image builder). Every check must pass before the deadline; each is retried until then.
 *
 * @param deadlineSeconds give up (fail) after this long
 * @param intervalSeconds pause between rounds of checks that did not all pass
 * @param checks the checks
 */
@JsonIgnoreProperties(ignoreUnknown = false)
public record HealthConfig(Integer deadlineSeconds, Integer intervalSeconds, List<Check> checks) {

  public HealthConfig {
    deadlineSeconds = deadlineSeconds == null ? 300 : deadlineSeconds;
    intervalSeconds = intervalSeconds == null ? 5 : intervalSeconds;
    checks = checks == null ? List.of() : List.copyOf(checks);
    if (deadlineSeconds <= 0 || intervalSeconds <= 0) {
      throw new IllegalArgumentException("deadlineSeconds and intervalSeconds must be positive");
    }
  }

  public Duration deadline() {
    return Duration.ofSeconds(deadlineSeconds);
  }

  public Duration interval() {
    return Duration.ofSeconds(intervalSeconds);
  }

  /** One check; the JSON field {@code type} selects the kind. */
  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
  @JsonSubTypes({
    @JsonSubTypes.Type(value = SystemState.class, name = "systemd-system"),
    @JsonSubTypes.Type(value = Unit.class, name = "systemd-unit"),
    @JsonSubTypes.Type(value = Command.class, name = "command"),
    @JsonSubTypes.Type(value = Http.class, name = "http")
  })
  public sealed interface Check permits SystemState, Unit, Command, Http {
    String describe();
  }

  /** {@code systemctl is-system-running}: passes on "running" (and "degraded" when allowed). */
  public record SystemState(boolean allowDegraded) implements Check {
    @Override
    public String describe() {
      return "systemd system state is running" + (allowDegraded ? " or degraded" : "");
    }
  }

  /** {@code systemctl is-active UNIT} answers "active". */
  public record Unit(String unit) implements Check {
    @Override
    public String describe() {
      return "unit " + unit + " is active";
    }
  }

  /** A command that exits 0. */
  public record Command(List<String> argv) implements Check {
    @Override
    public String describe() {
      return "command " + String.join(" ", argv) + " exits 0";
    }
  }

  /** An HTTP GET (e.g. the kubelet's healthz on 127.0.0.1:10248) that answers 2xx. */
  public record Http(URI url) implements Check {
    @Override
    public String describe() {
      return "GET " + url + " answers 2xx";
    }
  }
}
