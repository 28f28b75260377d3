package dev.kubeos.agent.health;

import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

/** Outcome of a health run: each check's last result. */
public record HealthReport(boolean passed, Duration elapsed, List<Result> results) {

  /** One check's outcome and the reason when it failed. */
  public record Result(String check, boolean passed, String detail) {}

  public String summary() {
    if (results.isEmpty()) {
      return "passed (no checks configured: the system booted and the agent runs)";
    }
    String failed =
        results.stream()
            .filter(r -> !r.passed())
            .map(r -> r.check() + ": " + r.detail())
            .collect(Collectors.joining("; "));
    return passed
        ? "passed " + results.size() + " checks in " + elapsed.toMillis() + " ms"
        : "failed after " + elapsed.toSeconds() + " s: " + failed;
  }
}
