package dev.kubeos.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class DemoConsoleTest {
  private final List<String> said = new ArrayList<>();
  private final DemoConsole console = new DemoConsole("boot v1", said::add);

  @Test
  void printsMilestonesAndTheJobsOutputButNotTheSpinnerOrBootNoise() {
    console.line(Duration.ofMillis(1500), "BdsDxe: starting Boot0001 \"UEFI QEMU HARDDISK\"");
    console.line(Duration.ofSeconds(2), "[    0.000000] some kernel line");
    console.line(Duration.ofSeconds(3), "plain line before the job");
    console.line(Duration.ofSeconds(4), "[  *** ] A stop job is running for Something (5s / 1min)");
    console.line(Duration.ofSeconds(5), "PROBE-JOB start");
    console.line(Duration.ofSeconds(6), "staging 2.0.0: 40%");
    console.line(Duration.ofSeconds(7), "[  OK  ] Started Something.");
    console.line(Duration.ofSeconds(8), "         Starting kubeos-health.service - KubeOS health…");

    assertThat(said)
        .containsExactly(
            "    guest +1.5 s  BdsDxe: starting Boot0001 \"UEFI QEMU HARDDISK\"",
            "    guest +5.0 s  PROBE-JOB start",
            "    guest +6.0 s  | staging 2.0.0: 40%",
            "    guest +8.0 s  Starting kubeos-health.service - KubeOS health…");
  }

  @Test
  void theHeartbeatNamesTheBootAndTheLastNonBlankLineClipped() {
    console.line(Duration.ofSeconds(1), "x".repeat(150));
    console.line(Duration.ofSeconds(2), "   ");
    assertThat(console.activity())
        .startsWith("boot v1: ")
        .contains(" since QEMU start; console: ")
        .endsWith("x".repeat(99) + "…");
  }
}
