package dev.kubeos.cluster.proxy.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DrainFilterTest {
  static Pod pod(String name, String owner, boolean emptyDir, boolean mirror, String phase) {
    PodBuilder b =
        new PodBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace("ns")
            .endMetadata()
            .withNewSpec()
            .endSpec()
            .withNewStatus()
            .withPhase(phase)
            .endStatus();
    if (owner != null) {
      b.editMetadata()
          .addNewOwnerReference()
          .withKind(owner)
          .withName("o")
          .withController(true)
          .endOwnerReference()
          .endMetadata();
    }
    if (mirror) {
      b.editMetadata().withAnnotations(Map.of(DrainFilter.MIRROR_ANNOTATION, "x")).endMetadata();
    }
    if (emptyDir) {
      b.editSpec()
          .addNewVolume()
          .withName("v")
          .withNewEmptyDir()
          .endEmptyDir()
          .endVolume()
          .endSpec();
    }
    return b.build();
  }

  final List<Pod> pods =
      List.of(
          pod("web", "ReplicaSet", false, false, "Running"),
          pod("ds", "DaemonSet", true, false, "Running"),
          pod("static", null, false, true, "Running"),
          pod("scratch", "ReplicaSet", true, false, "Running"),
          pod("bare", null, false, false, "Pending"),
          pod("done", null, true, false, "Succeeded"));

  @Test
  void withoutForceRefusesEmptyDirAndUnreplicatedPods() {
    DrainFilter.Selection s = DrainFilter.select(pods, false);
    assertThat(s.allowed()).isFalse();
    assertThat(s.refused())
        .containsExactly(
            "ns/scratch: uses emptyDir (local data is lost)",
            "ns/bare: not managed by a controller (it will not be recreated)");
    assertThat(s.skipped()).containsExactly("ns/ds", "ns/static");
    assertThat(s.evict()).extracting(p -> p.getMetadata().getName()).containsExactly("web");
  }

  @Test
  void withForceEvictsThemButNeverDaemonSetMirrorOrFinishedPods() {
    DrainFilter.Selection s = DrainFilter.select(pods, true);
    assertThat(s.allowed()).isTrue();
    assertThat(s.evict())
        .extracting(p -> p.getMetadata().getName())
        .containsExactly("web", "scratch", "bare");
  }
}
