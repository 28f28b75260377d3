package dev.kubeos.cluster.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubeos.cluster.proxy.model.Step;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** How long the proxy's loop waits for a change between passes. */
class NodeProxyWaitTest {
  static final ProxyConfig CONFIG =
      new ProxyConfig(
          Duration.ofSeconds(5),
          Duration.ofMinutes(15),
          Duration.ofMinutes(10),
          Duration.ofSeconds(60),
          Duration.ofMinutes(10));

  @Test
  void nothingToDoWhileWatchingWaitsForTheWatchesUpToTheIdleResync() {
    assertThat(NodeProxy.changeWait(new Step.Nothing("idle"), true, CONFIG))
        .isEqualTo(Duration.ofMinutes(10));
  }

  @Test
  void nothingToDoWithoutWorkingWatchesPollsAtTheResync() {
    assertThat(NodeProxy.changeWait(new Step.Nothing("idle"), false, CONFIG))
        .isEqualTo(Duration.ofSeconds(60));
  }

  @Test
  void aWaitingAttemptLooksAgainAtTheResyncEvenWhileWatching() {
    // its deadline (reboot, drain) may pass and the OS resource is not watched
    assertThat(NodeProxy.changeWait(new Step.Wait("rebooting"), true, CONFIG))
        .isEqualTo(Duration.ofSeconds(60));
  }

  @Test
  void productionWaitsTenMinutesWhenIdleAndOneMinuteOtherwise() {
    ProxyConfig d = ProxyConfig.defaults();
    assertThat(d.idleResync()).isEqualTo(ProxyConfig.IDLE_RESYNC).isEqualTo(Duration.ofMinutes(10));
    assertThat(d.resync()).isEqualTo(Duration.ofSeconds(60));
  }

  @Test
  void theFourTimingFormUsesOneResyncForBoth() {
    ProxyConfig c =
        new ProxyConfig(
            Duration.ofSeconds(1),
            Duration.ofMinutes(1),
            Duration.ofMinutes(1),
            Duration.ofSeconds(7));
    assertThat(c.idleResync()).isEqualTo(Duration.ofSeconds(7));
  }
}
