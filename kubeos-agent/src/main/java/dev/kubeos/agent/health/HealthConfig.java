package dev.kubeos.agent.health;

import com.fasterxml.jackson.annotation.JsonCreator;
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

  /**
   * One check; the JSON field {@code type} selects the kind. Every kind also takes {@code
   * deadlineSeconds}, its own deadline (the check fails once it has not passed by then; default and
   * upper bound: the overall deadline), and {@code onlyIfExists}, a path: while it is absent the
   * check is no gate (e.g. the kubelet before the node joined: /etc/kubernetes/kubelet.conf).
   */
  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
  @JsonSubTypes({
    @JsonSubTypes.Type(value = SystemState.class, name = "systemd-system"),
    @JsonSubTypes.Type(value = Unit.class, name = "systemd-unit"),
    @JsonSubTypes.Type(value = Command.class, name = "command"),
    @JsonSubTypes.Type(value = Http.class, name = "http")
  })
  public sealed interface Check permits SystemState, Unit, Command, Http {
    String describe();

    /** This check's own deadline in seconds, or null for the overall one. */
    Integer deadlineSeconds();

    /** The check applies only while this path exists; null: always. */
    String onlyIfExists();
  }

  private static void checkCommon(Integer deadlineSeconds, String onlyIfExists) {
    if (deadlineSeconds != null && deadlineSeconds <= 0) {
      throw new IllegalArgumentException("a check's deadlineSeconds must be positive");
    }
    if (onlyIfExists != null && !onlyIfExists.startsWith("/")) {
      throw new IllegalArgumentException("onlyIfExists must be an absolute path: " + onlyIfExists);
    }
  }

  /** The deadline of {@code check}: its own, bounded by the overall one. */
  public Duration deadline(Check check) {
    Integer own = check.deadlineSeconds();
    return own == null || own > deadlineSeconds ? deadline() : Duration.ofSeconds(own);
  }

  /** {@code systemctl is-system-running}: passes on "running" (and "degraded" when allowed). */
  public record SystemState(boolean allowDegraded, Integer deadlineSeconds, String onlyIfExists)
      implements Check {
    @JsonCreator
    public SystemState {
      checkCommon(deadlineSeconds, onlyIfExists);
    }

    public SystemState(boolean allowDegraded) {
      this(allowDegraded, null, null);
    }

    @Override
    public String describe() {
      return "systemd system state is running" + (allowDegraded ? " or degraded" : "");
    }
  }

  /** {@code systemctl is-active UNIT} answers "active". */
  public record Unit(String unit, Integer deadlineSeconds, String onlyIfExists) implements Check {
    @JsonCreator
    public Unit {
      checkCommon(deadlineSeconds, onlyIfExists);
    }

    public Unit(String unit) {
      this(unit, null, null);
    }

    @Override
    public String describe() {
      return "unit " + unit + " is active";
    }
  }

  /** A command that exits 0. */
  public record Command(List<String> argv, Integer deadlineSeconds, String onlyIfExists)
      implements Check {
    @JsonCreator
    public Command {
      checkCommon(deadlineSeconds, onlyIfExists);
    }

    public Command(List<String> argv) {
      this(argv, null, null);
    }

    @Override
    public String describe() {
      return "command " + String.join(" ", argv) + " exits 0";
    }
  }

  /** An HTTP GET (e.g. the kubelet's healthz on 127.0.0.1:10248) that answers 2xx. */
  public record Http(URI url, Integer deadlineSeconds, String onlyIfExists) implements Check {
    @JsonCreator
    public Http {
      checkCommon(deadlineSeconds, onlyIfExists);
    }

    public Http(URI url) {
      this(url, null, null);
    }

    @Override
    public String describe() {
      return "GET " + url + " answers 2xx";
    }
  }
}
