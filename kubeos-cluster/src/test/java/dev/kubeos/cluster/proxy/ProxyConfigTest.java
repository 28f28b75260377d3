package dev.kubeos.cluster.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubeos.cluster.proxy.model.PhaseTimeouts;
import dev.kubeos.crd.OSSpec;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The phases' limits the proxy derives from its configuration and the OS resource. */
class ProxyConfigTest {
  static final ProxyConfig CONFIG =
      new ProxyConfig(
          Duration.ofSeconds(5),
          Duration.ofMinutes(15),
          Duration.ofMinutes(10),
          Duration.ofSeconds(60));

  @Test
  void theOsResourcesDrainTimeoutWins() {
    OSSpec os = new OSSpec();
    os.setDraintimeout(42);
    assertThat(CONFIG.timeouts(os))
        .isEqualTo(
            new PhaseTimeouts(
                Duration.ofSeconds(42), Duration.ofMinutes(15), Duration.ofMinutes(15)));
  }

  @Test
  void withoutOneTheDefaultDrainTimeoutApplies() {
    assertThat(CONFIG.timeouts(new OSSpec()).drain()).isEqualTo(Duration.ofMinutes(10));
    assertThat(CONFIG.timeouts(null).drain()).isEqualTo(Duration.ofMinutes(10));
  }

  @Test
  void transientAgentErrorsAreRetriedForAsLongAsARebootMayTake() {
    // as before the limits became data: one window for both, ProxyConfig#rebootTimeout
    assertThat(CONFIG.timeouts(null).agentRetry()).isEqualTo(CONFIG.rebootTimeout());
    assertThat(CONFIG.timeouts(null).reboot()).isEqualTo(CONFIG.rebootTimeout());
  }
}
