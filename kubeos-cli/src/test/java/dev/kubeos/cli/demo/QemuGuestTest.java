package dev.kubeos.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class QemuGuestTest {
  static final QemuGuest.Boot BOOT =
      new QemuGuest.Boot(
          1,
          Path.of("boot-1.log"),
          List.of(
              new QemuGuest.TimedLine(Duration.ofSeconds(3), "BdsDxe: loading Boot0001"),
              new QemuGuest.TimedLine(
                  Duration.ofSeconds(40),
                  "         Starting kubeos-health.service - KubeOS post-boot health check..."),
              new QemuGuest.TimedLine(Duration.ofSeconds(61), "PROBE-BOOT release=1.0.0 x=y "),
              new QemuGuest.TimedLine(
                  Duration.ofSeconds(70), "PROBE-STATUS {\"bootedSlot\":\"A\"}")),
          Duration.ofSeconds(90));

  @Test
  void probeLinesAreFoundByKeyAndStripped() {
    assertThat(BOOT.probe("BOOT")).isEqualTo("release=1.0.0 x=y");
    assertThat(BOOT.probe("STATUS")).isEqualTo("{\"bootedSlot\":\"A\"}");
    assertThat(BOOT.probe("MARKER")).isNull();
    assertThat(QemuGuest.probe("noise PROBE-A.B 1\nPROBE-AXB 2\n", "A.B")).isEqualTo("1");
  }

  @Test
  void firstAtGivesTheTimeOfTheFirstMatchingLine() {
    assertThat(BOOT.firstAt("Starting .*KubeOS post-boot health"))
        .isEqualTo(Duration.ofSeconds(40));
    assertThat(BOOT.firstAt("^PROBE-")).isEqualTo(Duration.ofSeconds(61));
    assertThat(BOOT.firstAt("Finished .*health")).isNull();
    assertThat(BOOT.console()).startsWith("BdsDxe: loading Boot0001\n").endsWith("}\n");
  }

  @Test
  void aJvmCrashThatTheProbeReportedFailsTheBootNamingTheLog() {
    BOOT.requireNoJvmCrash();
    QemuGuest.Boot crashed =
        new QemuGuest.Boot(
            4,
            Path.of("logs/boot-4.log"),
            List.of(
                new QemuGuest.TimedLine(Duration.ofSeconds(80), "PROBE-BOOT release=1.0.0"),
                new QemuGuest.TimedLine(
                    Duration.ofSeconds(95),
                    "PROBE-JVM-CRASH /persist/kubeos/hs_err_pid812.log (exit 134, flags: )"),
                new QemuGuest.TimedLine(Duration.ofSeconds(95), "#  SIGSEGV (0xb) at pc=0x7f")),
            Duration.ofSeconds(120));
    assertThatThrownBy(crashed::requireNoJvmCrash)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("boot 4")
        .hasMessageContaining("hs_err_pid812.log (exit 134")
        .hasMessageContaining("logs/boot-4.log");
  }
}
