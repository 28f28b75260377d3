package dev.kubeos.agent.settings.model;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import org.junit.jupiter.api.Test;

public class TomlTextTest {
  public static final String CONTAINERD =
      "# containerd config\n"
          + "version = 2\n"
          + "\n"
          + "[plugins]\n"
          + "  [plugins.\"io.containerd.grpc.v1.cri\"]\n"
          + "    sandbox_image = \"registry.k8s.io/pause:3.8\"  # pinned\n"
          + "    [plugins.\"io.containerd.grpc.v1.cri\".registry]\n"
          + "      config_path = \"\"\n"
          + "    [plugins.\"io.containerd.grpc.v1.cri\".cni]\n"
          + "      bin_dirs = [\n"
          + "        \"/opt/cni/bin\", # default\n"
          + "      ]\n"
          + "      conf_dir = \"/etc/cni/net.d\"\n";

  private final TomlMapper toml = new TomlMapper();

  private String apply(String text, String key, String json, ChangeOperation op) throws Exception {
    JsonNode value = json == null ? null : new ObjectMapper().readTree(json);
    String out = text;
    JsonNode tree = text.isBlank() ? toml.createObjectNode() : toml.readTree(text);
    for (TreeEdit.Leaf leaf : TreeEdit.leaves(KeyPath.parse("m", key), value, op)) {
      tree = TreeEdit.apply("m", tree, leaf);
      out = TomlText.apply("m", out, leaf);
    }
    JsonNode got = out.isBlank() ? toml.createObjectNode() : toml.readTree(out);
    assertThat(TreeEdit.same(got, tree))
        .as("parsed %s%nexpected %s%ntext:%n%s", got, tree, out)
        .isTrue();
    return out;
  }

  @Test
  void replacesAValueInPlaceKeepingItsComment() throws Exception {
    String out =
        apply(
            CONTAINERD,
            "plugins.\"io.containerd.grpc.v1.cri\".sandbox_image",
            "\"registry.k8s.io/pause:3.9\"",
            ChangeOperation.UPDATE);
    assertThat(out).isEqualTo(CONTAINERD.replace("pause:3.8", "pause:3.9"));
  }

  @Test
  void addsKeysToTheirTableOrANewTable() throws Exception {
    String out =
        apply(
            CONTAINERD,
            "plugins.\"io.containerd.grpc.v1.cri\".registry.config_path",
            "\"/etc/containerd/certs.d\"",
            ChangeOperation.UPDATE);
    assertThat(out)
        .isEqualTo(
            CONTAINERD.replace("config_path = \"\"", "config_path = \"/etc/containerd/certs.d\""));
    String added =
        apply(
            CONTAINERD,
            "plugins.\"io.containerd.grpc.v1.cri\".enable_cdi",
            "true",
            ChangeOperation.UPDATE);
    assertThat(added)
        .isEqualTo(CONTAINERD.replace("  # pinned\n", "  # pinned\n    enable_cdi = true\n"));
    String table =
        apply(
            CONTAINERD,
            "plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options.SystemdCgroup",
            "true",
            ChangeOperation.UPDATE);
    assertThat(table)
        .isEqualTo(
            CONTAINERD
                + "\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n"
                + "SystemdCgroup = true\n");
    assertThat(apply(CONTAINERD, "oom_score", "-999", ChangeOperation.UPDATE))
        .isEqualTo(CONTAINERD.replace("version = 2\n", "version = 2\noom_score = -999\n"));
    assertThat(apply("", "a.b", "1", ChangeOperation.UPDATE)).isEqualTo("[a]\nb = 1\n");
  }

  @Test
  void appendsToMultiLineArraysAndReplacesOnRequest() throws Exception {
    String key = "plugins.\"io.containerd.grpc.v1.cri\".cni.bin_dirs";
    assertThat(apply(CONTAINERD, key, "[\"/usr/libexec/cni\"]", ChangeOperation.UPDATE))
        .isEqualTo(
            CONTAINERD.replace(
                "\"/opt/cni/bin\", # default", "\"/opt/cni/bin\", \"/usr/libexec/cni\" # default"));
    assertThat(apply(CONTAINERD, key, "[\"/x\"]", ChangeOperation.REPLACE))
        .isEqualTo(
            CONTAINERD.replace("[\n        \"/opt/cni/bin\", # default\n      ]", "[\"/x\"]"));
    assertThat(apply("a = [1, 2]\n", "a", "[3]", ChangeOperation.UPDATE))
        .isEqualTo("a = [1, 2, 3]\n");
    assertThat(apply("a = []\n", "a", "[3]", ChangeOperation.UPDATE)).isEqualTo("a = [3]\n");
  }

  @Test
  void deletesKeysAndTables() throws Exception {
    assertThat(
            apply(
                CONTAINERD,
                "plugins.\"io.containerd.grpc.v1.cri\".cni.bin_dirs",
                null,
                ChangeOperation.DELETE))
        .isEqualTo(
            CONTAINERD.replace(
                "      bin_dirs = [\n        \"/opt/cni/bin\", # default\n      ]\n", ""));
    assertThat(
            apply(
                CONTAINERD,
                "plugins.\"io.containerd.grpc.v1.cri\".registry",
                null,
                ChangeOperation.DELETE))
        .isEqualTo(
            CONTAINERD.replace(
                "    [plugins.\"io.containerd.grpc.v1.cri\".registry]\n      config_path = \"\"\n",
                ""));
    assertThat(apply(CONTAINERD, "nothing.here", null, ChangeOperation.DELETE))
        .isEqualTo(CONTAINERD);
  }
}
