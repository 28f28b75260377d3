package dev.kubeos.agent.health;

import dev.kubeos.agent.port.CommandRunner;
import dev.kubeos.oci.http.HttpTransport;
import dev.kubeos.oci.source.FetchOptions;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Runs the configured checks, retrying those that fail until all pass or the deadline ends. */
public final class HealthChecker {
  private static final Duration CHECK_TIMEOUT = Duration.ofSeconds(10);

  private final HealthConfig config;
  private final CommandRunner commands;
  private final Clock clock;

  /** The probe's transport: the JDK trust store, 10 s timeouts, plain http allowed. */
  private static final FetchOptions PROBE =
      FetchOptions.defaults().withInsecure(true).withTimeouts(CHECK_TIMEOUT, CHECK_TIMEOUT);

  public HealthChecker(HealthConfig config, CommandRunner commands, Clock clock) {
    this.config = config;
    this.commands = commands;
    this.clock = clock;
  }

  public HealthReport run() {
    Instant start = clock.instant();
    Instant deadline = start.plus(config.deadline());
    List<HealthReport.Result> results = new ArrayList<>();
    for (HealthConfig.Check check : config.checks()) {
      results.add(new HealthReport.Result(check.describe(), false, "not run yet"));
    }
    while (true) {
      boolean all = true;
      boolean overdue = false;
      for (int i = 0; i < results.size(); i++) {
        if (results.get(i).passed()) {
          continue;
        }
        HealthConfig.Check check = config.checks().get(i);
        if (check.onlyIfExists() != null && !Files.exists(Path.of(check.onlyIfExists()))) {
          results.set(
              i,
              new HealthReport.Result(
                  check.describe(), true, "no gate: " + check.onlyIfExists() + " does not exist"));
          continue;
        }
        String failure = probe(check);
        Instant own = start.plus(config.deadline(check));
        if (failure != null
            && own.isBefore(deadline)
            && !clock.instant().plus(config.interval()).isBefore(own)) {
          failure += " (its deadline of " + config.deadline(check).toSeconds() + " s is over)";
          overdue = true;
        }
        results.set(i, new HealthReport.Result(check.describe(), failure == null, failure));
        all &= failure == null;
      }
      Duration elapsed = Duration.between(start, clock.instant());
      if (all) {
        return new HealthReport(true, elapsed, List.copyOf(results));
      }
      if (overdue || !clock.instant().plus(config.interval()).isBefore(deadline)) {
        return new HealthReport(false, elapsed, List.copyOf(results));
      }
      try {
        Thread.sleep(config.interval().toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return new HealthReport(false, elapsed, List.copyOf(results));
      }
    }
  }

  /** Null when the check passes, otherwise why it failed. */
  private String probe(HealthConfig.Check check) {
    try {
      if (check instanceof HealthConfig.SystemState) {
        HealthConfig.SystemState s = (HealthConfig.SystemState) check;
        String state = runForOutput(List.of("systemctl", "is-system-running")).trim();
        boolean ok = state.equals("running") || (s.allowDegraded() && state.equals("degraded"));
        return ok ? null : "system state is '" + state + "'";
      }
      if (check instanceof HealthConfig.Unit) {
        String unit = ((HealthConfig.Unit) check).unit();
        String state = runForOutput(List.of("systemctl", "is-active", unit)).trim();
        return state.equals("active") ? null : "unit is '" + state + "'";
      }
      if (check instanceof HealthConfig.Command) {
        CommandRunner.Result r = commands.run(((HealthConfig.Command) check).argv(), CHECK_TIMEOUT);
        return r.ok()
            ? null
            : (r.timedOut() ? "timed out" : "exit status " + r.exitStatus()) + tail(r.output());
      }
      HealthConfig.Http h = (HealthConfig.Http) check;
      // the agent's one HTTP transport; a redirect is an answer here, not followed
      HttpURLConnection c = HttpTransport.of(h.url(), PROBE).open(h.url(), "GET", Map.of());
      int status;
      try {
        status = c.getResponseCode();
        InputStream body = status < 400 ? c.getInputStream() : c.getErrorStream();
        if (body != null) {
          try (body) {
            body.readNBytes(64 << 10);
          }
        }
      } finally {
        c.disconnect();
      }
      return status / 100 == 2 ? null : "HTTP status " + status;
    } catch (IOException e) {
      return e.getClass().getSimpleName() + ": " + e.getMessage();
    }
  }

  private String runForOutput(List<String> argv) throws IOException {
    return commands.run(argv, CHECK_TIMEOUT).output();
  }

  private static String tail(String output) {
    String t = output == null ? "" : output.strip();
    if (t.isEmpty()) {
      return "";
    }
    return ": " + (t.length() > 200 ? "..." + t.substring(t.length() - 200) : t);
  }
}
