package dev.kubeos.cluster.operator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubeos.crd.NamespacedName;
import dev.kubeos.crd.OSInstance;
import dev.kubeos.crd.OSInstanceSpec;
import dev.kubeos.crd.SysConfig;
import dev.kubeos.crd.SysConfigs;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The typed OSInstance spec patch says on the wire exactly what the operator's former map said: the
 * same spec, nothing of the status, no resourceVersion.
 */
class ClusterWriterTest {
  static final KubernetesSerialization JSON = new KubernetesSerialization();

  static OSInstance stored() {
    OSInstance i = new OSInstance();
    i.getMetadata().setName("n1");
    i.getMetadata().setNamespace("default");
    i.getMetadata().setResourceVersion("42");
    i.getMetadata().setLabels(Map.of(OSInstance.NODE_LABEL, "n1"));
    i.getStatus().setPhase("Done");
    return i;
  }

  static SysConfigs configs(String version) {
    SysConfigs s = new SysConfigs(version);
    SysConfig c = new SysConfig();
    c.setModel("kernel.sysctl");
    s.setConfigs(List.of(c));
    return s;
  }

  /** The spec patch as the operator wrote it before it was typed. */
  static Map<?, ?> mapPatch(String op, SysConfigs sys, SysConfigs upgrade) {
    Map<String, Object> spec = new LinkedHashMap<>();
    spec.put("nodestatus", op);
    spec.put("namespacedname", Map.of("name", "os-v2", "namespace", "default"));
    if (sys != null) {
      spec.put("sysconfigs", sys);
    }
    if (upgrade != null) {
      spec.put("upgradeconfigs", upgrade);
    }
    return JSON.unmarshal(JSON.asJson(Map.of("spec", spec)), Map.class);
  }

  static Map<?, ?> typedPatch(String op, SysConfigs sys, SysConfigs upgrade) {
    OSInstanceSpec spec =
        OSInstanceSpec.assignment(op, new NamespacedName("os-v2", "default"), sys, upgrade);
    return JSON.unmarshal(JSON.asJson(ClusterWriter.specPatch(stored(), spec)), Map.class);
  }

  @Test
  void theTypedPatchCarriesTheSameSpec() {
    SysConfigs sys = configs("s1");
    SysConfigs up = configs("u1");
    String[][] cases = {{"upgrade"}, {"config"}, {"rollback"}};
    for (String[] c : cases) {
      for (SysConfigs s : new SysConfigs[] {sys, null}) {
        for (SysConfigs u : new SysConfigs[] {up, null}) {
          assertThat(typedPatch(c[0], s, u).get("spec"))
              .as("%s sysconfigs=%s upgradeconfigs=%s", c[0], s != null, u != null)
              .isEqualTo(mapPatch(c[0], s, u).get("spec"));
        }
      }
    }
  }

  @Test
  void thePatchNamesTheObjectAndNothingElse() {
    Map<?, ?> patch = typedPatch("upgrade", null, null);
    assertThat(patch.containsKey("status")).isFalse();
    assertThat(patch.get("metadata")).isEqualTo(Map.of("name", "n1", "namespace", "default"));
    assertThat(patch.get("kind")).isEqualTo("OSInstance");
  }
}
