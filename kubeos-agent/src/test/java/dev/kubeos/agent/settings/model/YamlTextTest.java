package dev.kubeos.agent.settings.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.kubeos.api.agent.AgentException;
import java.util.List;
import org.junit.jupiter.api.Test;

public class YamlTextTest {
  public static final String KUBELET =
      "# written by kubeadm\n"
          + "apiVersion: kubelet.config.k8s.io/v1beta1\n"
          + "kind: KubeletConfiguration\n"
          + "clusterDNS:\n"
          + "- 10.96.0.10\n"
          + "evictionHard:\n"
          + "  # keep some memory\n"
          + "  memory.available: 100Mi   # default\n"
          + "  nodefs.available: 10%\n"
          + "maxPods: 110\n"
          + "tlsCipherSuites: [a, b]\n";

  private final ObjectMapper yaml = new YAMLMapper();

  private String apply(String text, String key, String json, ChangeOperation op) throws Exception {
    JsonNode value = json == null ? null : new ObjectMapper().readTree(json);
    String out = text;
    JsonNode tree = text.isBlank() ? yaml.createObjectNode() : yaml.readTree(text);
    for (TreeEdit.Leaf leaf : TreeEdit.leaves(KeyPath.parse("m", key), value, op)) {
      tree = TreeEdit.apply("m", tree, leaf);
      out = YamlText.apply("m", out, leaf);
    }
    JsonNode got = out.isBlank() ? yaml.createObjectNode() : yaml.readTree(out);
    assertThat(TreeEdit.same(got, tree))
        .as("parsed %s%nexpected %s%ntext:%n%s", got, tree, out)
        .isTrue();
    return out;
  }

  @Test
  void updatesAScalarInPlaceKeepingItsComment() throws Exception {
    String out =
        apply(KUBELET, "evictionHard.\"memory.available\"", "\"200Mi\"", ChangeOperation.UPDATE);
    assertThat(out)
        .isEqualTo(
            KUBELET.replace(
                "memory.available: 100Mi   # default", "memory.available: 200Mi   # default"));
  }

  @Test
  void addsNestedKeysAtTheEndOfTheirMap() throws Exception {
    String out =
        apply(KUBELET, "evictionHard.\"imagefs.available\"", "\"15%\"", ChangeOperation.UPDATE);
    assertThat(out)
        .isEqualTo(
            KUBELET.replace(
                "  nodefs.available: 10%\n",
                "  nodefs.available: 10%\n  imagefs.available: 15%\n"));
    String deep = apply(KUBELET, "authentication.webhook.enabled", "true", ChangeOperation.UPDATE);
    assertThat(deep).isEqualTo(KUBELET + "authentication:\n  webhook:\n    enabled: true\n");
  }

  @Test
  void appendsToBlockAndFlowListsByDefaultAndReplacesOnRequest() throws Exception {
    String appended = apply(KUBELET, "clusterDNS", "[\"10.96.0.11\"]", ChangeOperation.UPDATE);
    assertThat(appended)
        .isEqualTo(KUBELET.replace("- 10.96.0.10\n", "- 10.96.0.10\n- 10.96.0.11\n"));
    String flow = apply(KUBELET, "tlsCipherSuites", "[\"c\"]", ChangeOperation.UPDATE);
    assertThat(flow).isEqualTo(KUBELET.replace("[a, b]", "[a, b, c]"));
    String replaced =
        apply(KUBELET, "clusterDNS", "[\"1.1.1.1\", \"8.8.8.8\"]", ChangeOperation.REPLACE);
    assertThat(replaced).isEqualTo(KUBELET.replace("- 10.96.0.10\n", "- 1.1.1.1\n- 8.8.8.8\n"));
  }

  @Test
  void deletesAKeyWithItsBlock() throws Exception {
    assertThat(apply(KUBELET, "evictionHard", null, ChangeOperation.DELETE))
        .isEqualTo(
            KUBELET.replace(
                "evictionHard:\n  # keep some memory\n  memory.available: 100Mi   # default\n  nodefs.available: 10%\n",
                ""));
    assertThat(apply(KUBELET, "clusterDNS", null, ChangeOperation.DELETE))
        .doesNotContain("10.96.0.10");
    assertThat(apply(KUBELET, "no.such.key", null, ChangeOperation.DELETE)).isEqualTo(KUBELET);
  }

  @Test
  void writesMapsAndQuotesStringsThatWouldChangeType() throws Exception {
    String out =
        apply(
            KUBELET,
            "featureGates",
            "{\"A\": true, \"B\": \"yes\", \"C\": \"123\"}",
            ChangeOperation.UPDATE);
    assertThat(out).endsWith("featureGates:\n  A: true\n  B: \"yes\"\n  C: \"123\"\n");
    assertThat(apply("", "a.b", "[{\"x\": 1, \"y\": [2]}]", ChangeOperation.UPDATE))
        .isEqualTo("a:\n  b:\n  - x: 1\n    y:\n    - 2\n");
  }

  @Test
  void refusesToDescendIntoAScalar() {
    assertThatThrownBy(() -> apply(KUBELET, "maxPods.x", "1", ChangeOperation.UPDATE))
        .isInstanceOf(AgentException.class)
        .hasMessageContaining("maxPods");
  }

  @Test
  void keyPathsKeepQuotedDots() {
    assertThat(KeyPath.parse("m", "plugins.\"io.containerd.grpc.v1.cri\".sandbox_image"))
        .containsExactly("plugins", "io.containerd.grpc.v1.cri", "sandbox_image");
    assertThatThrownBy(() -> KeyPath.parse("m", "a..b")).hasMessageContaining("empty segment");
    assertThatThrownBy(() -> KeyPath.parse("m", "a.\"b")).hasMessageContaining("unterminated");
    assertThat(KeyPath.render(List.of("a", "b.c"))).isEqualTo("a.\"b.c\"");
  }
}
