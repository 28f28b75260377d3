package dev.kubeos.cluster.plan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubeos.crd.OS;
import dev.kubeos.crd.OSStatus;
import dev.kubeos.crd.OpsType;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every example OS resource of upstream's documentation (written as fixtures from the documented
 * fields) parses into the Java types unchanged, plans, and converges in simulation.
 */
class UpstreamExamplesTest {
  static final Instant LATE_EVENING = Instant.parse("2026-03-02T23:00:00Z");

  static OS load(String file) throws IOException {
    return UpstreamExamples.load(file);
  }

  static List<String> files() {
    return UpstreamExamples.FILES;
  }

  static List<NodeFacts> fleet() {
    List<NodeFacts> out = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      Fleet.N n =
          Fleet.node("node-" + i)
              .image("KubeOS 0.8.0")
              .pod("app-" + i, 500, Fleet.GI)
              .instance(InstanceView.idle("v0"));
      if (i % 2 == 1) {
        n.label("upgrade.openeuler.org/node-selector", "kubeos");
      }
      out.add(n.build());
    }
    return out;
  }

  @ParameterizedTest
  @MethodSource("files")
  void parsesPlansAndConverges(String file) throws IOException {
    OS os = load(file);
    assertThat(os.getApiVersion()).isEqualTo("upgrade.openeuler.org/v1alpha1");
    assertThat(os.getSpec().getOpstype()).isNotNull();
    assertThat(os.getSpec().getMaxunavailable()).isPositive();

    RolloutPlan plan = RolloutPlanner.plan(os.getSpec(), fleet(), LATE_EVENING);
    assertThat(plan.is(OSStatus.HALTED)).as(plan.condition(OSStatus.HALTED).message()).isFalse();
    assertThat(plan.start()).isNotEmpty();
    assertThat(plan.start().size()).isLessThanOrEqualTo(os.getSpec().getMaxunavailable());

    Simulation sim = Simulation.run(os.getSpec(), fleet(), LATE_EVENING, Duration.ofMinutes(5));
    assertThat(sim.finalPlan().is(OSStatus.COMPLETE)).as(sim.skipped().toString()).isTrue();
    int selected = sim.finalPlan().counts().selected();
    assertThat(sim.batches().stream().mapToInt(List::size).sum()).isEqualTo(selected);
  }

  @org.junit.jupiter.api.Test
  void fieldsKeepTheirUpstreamMeaning() throws IOException {
    OS serial = load("upgrade-serial-selector-window.yaml");
    assertThat(serial.getSpec().getNodeselector()).isEqualTo("kubeos");
    assertThat(serial.getSpec().getTimewindow().getStarttime()).isEqualTo("22:00:00");
    assertThat(serial.getSpec().getTimeinterval()).isEqualTo(30);
    RolloutPlan plan = RolloutPlanner.plan(serial.getSpec(), fleet(), LATE_EVENING);
    assertThat(plan.start()).containsExactly("node-1");
    assertThat(plan.skipped().get("node-0").reason()).isEqualTo(SkipReason.OUTSIDE_SELECTOR);
    assertThat(
            RolloutPlanner.plan(serial.getSpec(), fleet(), Instant.parse("2026-03-02T12:00:00Z"))
                .start())
        .isEmpty();

    OS mtls = load("upgrade-disk-mtls.yaml");
    assertThat(mtls.getSpec().isMtls()).isTrue();
    assertThat(mtls.getSpec().getClientkey()).isEqualTo("client.key");
    assertThat(mtls.getSpec().isFlagSafe()).isFalse();

    OS config = load("config-kubelet-containerd-pam.yaml");
    assertThat(config.getSpec().getOpstype()).isEqualTo(OpsType.CONFIG);
    Object eviction =
        config.getSpec().getSysconfigs().getConfigs().get(0).getContents().get(1).getValue();
    assertThat(eviction).isInstanceOf(Map.class);
    assertThat(((Map<?, ?>) eviction).get("memory.available")).isEqualTo("200Mi");
    assertThat(
            load("config.yaml")
                .getSpec()
                .getSysconfigs()
                .getConfigs()
                .get(0)
                .getContents()
                .get(1)
                .getOperation())
        .isEqualTo("delete");
  }
}
