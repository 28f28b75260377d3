package dev.kubeos.agent.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.agent.host.HostAgents;
import dev.kubeos.agent.port.CommandRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Per-check deadlines and checks that only gate once a file exists (one round: fixed clock). */
class HealthCheckerTest {
  @TempDir Path dir;

  /** systemctl answers "inactive" for every unit; every call is recorded. */
  private final List<List<String>> calls = new ArrayList<>();

  private final CommandRunner inactive =
      (argv, timeout) -> {
        calls.add(argv);
        return new CommandRunner.Result(3, "inactive\n", false);
      };

  private static final Clock FIXED =
      Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);

  @Test
  void aCheckWhoseFileIsAbsentIsNoGateAndIsNotRun() {
    Path kubeconfig = dir.resolve("kubelet.conf");
    HealthConfig config =
        new HealthConfig(
            1, 1, List.of(new HealthConfig.Unit("kubelet.service", null, kubeconfig.toString())));
    HealthReport r = new HealthChecker(config, inactive, FIXED).run();
    assertThat(r.passed()).isTrue();
    assertThat(r.results().get(0).detail()).contains("no gate").contains(kubeconfig.toString());
    assertThat(calls).isEmpty();
  }

  @Test
  void onceTheFileExistsTheCheckGates() throws IOException {
    Path kubeconfig = Files.writeString(dir.resolve("kubelet.conf"), "apiVersion: v1\n");
    HealthConfig config =
        new HealthConfig(
            1, 1, List.of(new HealthConfig.Unit("kubelet.service", null, kubeconfig.toString())));
    HealthReport r = new HealthChecker(config, inactive, FIXED).run();
    assertThat(r.passed()).isFalse();
    assertThat(r.results().get(0).detail()).isEqualTo("unit is 'inactive'");
    assertThat(calls).containsExactly(List.of("systemctl", "is-active", "kubelet.service"));
  }

  @Test
  void aCheckPastItsOwnDeadlineFailsTheRunBeforeTheOverallDeadline() {
    // overall 600 s, the unit's own 1 s: one failed round ends the run (no retry, no sleep)
    HealthConfig config =
        new HealthConfig(600, 1, List.of(new HealthConfig.Unit("containerd.service", 1, null)));
    HealthReport r = new HealthChecker(config, inactive, FIXED).run();
    assertThat(r.passed()).isFalse();
    assertThat(r.results().get(0).detail()).contains("its deadline of 1 s is over");
    assertThat(config.deadline(config.checks().get(0))).isEqualTo(Duration.ofSeconds(1));
    assertThat(calls).hasSize(1);
  }

  @Test
  void theFileFormatTakesDeadlineAndConditionOnEveryKind() throws IOException {
    Path f =
        Files.writeString(
            dir.resolve("health.json"),
            "{\"deadlineSeconds\": 300, \"checks\": ["
                + "{\"type\": \"systemd-unit\", \"unit\": \"containerd.service\","
                + " \"deadlineSeconds\": 120},"
                + "{\"type\": \"http\", \"url\": \"http://127.0.0.1:10248/healthz\","
                + " \"onlyIfExists\": \"/etc/kubernetes/kubelet.conf\"},"
                + "{\"type\": \"command\", \"argv\": [\"/bin/true\"], \"deadlineSeconds\": 999},"
                + "{\"type\": \"systemd-system\", \"allowDegraded\": true}]}");
    HealthConfig c = HostAgents.loadHealthConfig(f);
    assertThat(c.checks()).hasSize(4);
    assertThat(c.deadline(c.checks().get(0))).isEqualTo(Duration.ofSeconds(120));
    assertThat(c.checks().get(1).onlyIfExists()).isEqualTo("/etc/kubernetes/kubelet.conf");
    // a check's own deadline never extends the overall one
    assertThat(c.deadline(c.checks().get(2))).isEqualTo(Duration.ofSeconds(300));
    assertThat(c.checks().get(3)).isEqualTo(new HealthConfig.SystemState(true));
  }

  @Test
  void aRelativeConditionIsRefused() {
    assertThatThrownBy(() -> new HealthConfig.Unit("x.service", null, "etc/kubelet.conf"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("absolute");
    assertThatThrownBy(() -> new HealthConfig.Unit("x.service", 0, null))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
