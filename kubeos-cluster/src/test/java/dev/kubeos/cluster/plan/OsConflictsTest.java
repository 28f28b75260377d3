package dev.kubeos.cluster.plan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubeos.crd.OS;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class OsConflictsTest {
  static OS os(String name, String created, String selector) {
    OS os = new OS();
    os.setMetadata(
        new ObjectMetaBuilder()
            .withName(name)
            .withNamespace("default")
            .withCreationTimestamp(created)
            .build());
    os.getSpec().setNodeselector(selector);
    return os;
  }

  @ParameterizedTest(name = "{0} vs {1}: overlap={2}")
  @CsvSource({
    "all-label, gpu, true",
    "no-label, all-label, true",
    "no-label, no-label, true",
    "gpu, gpu, true",
    "gpu, edge, false",
    "no-label, gpu, false",
  })
  void selectorsOverlapAsUpstreamSelects(String a, String b, boolean overlap) {
    assertThat(OsConflicts.overlap(a, b)).isEqualTo(overlap);
    assertThat(OsConflicts.overlap(b, a)).isEqualTo(overlap);
  }

  @Test
  void theLaterOfTwoOverlappingResourcesIsRejected() {
    OS early = os("early", "2026-03-01T10:00:00Z", "all-label");
    OS late = os("late", "2026-03-01T11:00:00Z", "gpu");
    OS disjoint = os("edge", "2026-03-01T09:00:00Z", "edge");
    var rejected = OsConflicts.rejected(List.of(late, disjoint, early));
    // 'edge' came first, so 'early' (all-label) overlaps it and is rejected; 'late' then only
    // meets 'edge' (disjoint) and is kept
    assertThat(rejected).containsOnlyKeys("default/early");
    assertThat(rejected.get("default/early")).contains("default/edge");

    var two = OsConflicts.rejected(List.of(late, os("first", "2026-03-01T10:00:00Z", "gpu")));
    assertThat(two).containsOnlyKeys("default/late");
    assertThat(two.get("default/late")).contains("overlaps with OS default/first");
  }

  @Test
  void sameTimestampFallsBackToTheName() {
    var rejected =
        OsConflicts.rejected(
            List.of(os("b", "2026-03-01T10:00:00Z", null), os("a", "2026-03-01T10:00:00Z", "")));
    assertThat(rejected).containsOnlyKeys("default/b");
  }
}
