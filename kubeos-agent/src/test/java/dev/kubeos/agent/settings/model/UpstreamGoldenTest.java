package dev.kubeos.agent.settings.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import org.junit.jupiter.api.Test;

/**
 * Golden cases written from upstream KubeOS's documented behaviour of each model: where upstream is
 * sound our output equals its output; where it is not, the case shows upstream's output and ours
 * (docs/settings.md, "Differences from upstream").
 */
class UpstreamGoldenTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static SettingChange c(String key, String json, String operation) throws Exception {
    return new SettingChange(
        key, json == null ? null : JSON.readTree(json), ChangeOperation.parse("m", key, operation));
  }

  private static String sysctl(String text, SettingChange... changes) {
    for (SettingChange ch : changes) {
      text = SysctlText.apply(text, ch);
    }
    return text;
  }

  @Test
  void sysctlPersistSameAsUpstream() throws Exception {
    // update in place, delete only with the matching value, add as key=value at the end
    String out =
        sysctl(
            "# managed\na=0\nd=4\ne=5\ng=7\n",
            c("a", "1", ""),
            c("b", "2", "delete"),
            c("c", "3", "add"),
            c("e", "\"\"", "delete"),
            c("g", "7", "delete"));
    assertThat(out).isEqualTo("# managed\na=1\nd=4\ne=5\nc=3\n");
  }

  @Test
  void sysctlPersistDifferenceUnrelatedLinesKeptAsTheyWere() throws Exception {
    String file = "net.core.somaxconn = 1024\n\nvm.swappiness=10\n";
    // upstream rewrites every setting line as key=value and drops blank lines:
    String upstream = "net.core.somaxconn=1024\nvm.swappiness=20\n";
    String ours = sysctl(file, c("vm.swappiness", "20", ""));
    assertThat(ours)
        .isEqualTo("net.core.somaxconn = 1024\n\nvm.swappiness=20\n")
        .isNotEqualTo(upstream);
    // upstream skips an empty value with a warning; we refuse the request
    assertThatThrownBy(() -> sysctl(file, c("d", "\"\"", ""))).hasMessageContaining("empty value");
  }

  @Test
  void kernelCommandLineSameAsUpstream() throws Exception {
    String line =
        "ro rootfstype=ext4 nomodeset quiet oops=panic softlockup_panic=1 nmi_watchdog=1"
            + " rd.shell=0 selinux=0 crashkernel=256M panic=3";
    String m = "grub.cmdline.current";
    for (SettingChange ch :
        new SettingChange[] {
          c("debug", "\"\"", ""),
          c("quiet", "\"\"", "delete"),
          c("panic", "\"5\"", ""),
          c("nomodeset", "\"\"", "update"),
          c("selinux", "\"1\"", "delete"),
          c("acpi", "\"off\"", "delete"),
          c("ro", "\"1\"", "")
        }) {
      line = CmdlineText.apply(m, line, ch);
    }
    assertThat(line)
        .isEqualTo(
            "ro=1 rootfstype=ext4 nomodeset oops=panic softlockup_panic=1 nmi_watchdog=1"
                + " rd.shell=0 selinux=0 crashkernel=256M panic=5 debug");
  }

  @Test
  void kernelCommandLineDifferenceEmptyValueMakesTheParameterBare() throws Exception {
    // upstream ignores an update with an empty value of a key=value parameter (oops=panic stays)
    assertThat(CmdlineText.apply("grub.cmdline.next", "oops=panic", c("oops", "\"\"", "")))
        .isEqualTo("oops");
  }

  @Test
  void pamLimitsSameAsUpstream() throws Exception {
    String file = "# limits\n* soft nofile 1024\n";
    assertThat(PamLimitsText.apply(file, c("*", "\"_._.65535\"", "")))
        .isEqualTo("# limits\n* soft nofile 65535\n");
    assertThat(PamLimitsText.apply(file, c("@dev", "\"hard.nproc.10\"", "")))
        .isEqualTo(file + "@dev hard nproc 10\n");
    assertThat(PamLimitsText.apply(file, c("*", "\"soft.nofile.1024\"", "delete")))
        .isEqualTo("# limits\n");
  }

  @Test
  void pamLimitsDifferenceOneDomainSeveralLines() throws Exception {
    String file = "*\tsoft\tnofile\t1024\n*\thard\tnofile\t4096\n";
    // upstream matches the domain only: it rewrites both lines to "* soft nofile 65535" (and
    // cannot parse tab-separated lines at all); we change the entry with that type and item
    assertThat(PamLimitsText.apply(file, c("*", "\"soft.nofile.65535\"", "")))
        .isEqualTo("*\tsoft\tnofile\t65535\n*\thard\tnofile\t4096\n");
  }

  @Test
  void kubeletSameTreeAsUpstreamWithCommentsKept() throws Exception {
    YAMLMapper yaml = new YAMLMapper();
    String file =
        "# kubeadm\nkind: KubeletConfiguration\nclusterDNS:\n- 10.96.0.10\nmaxPods: 110\n";
    String out = file;
    JsonNode tree = yaml.readTree(file);
    for (SettingChange ch :
        new SettingChange[] {
          c("clusterDNS", "[\"10.96.0.11\"]", ""),
          c("evictionHard.\"memory.available\"", "\"100Mi\"", ""),
          c("maxPods", null, "delete"),
          c("kind", "\"KubeletConfiguration\"", "")
        }) {
      for (TreeEdit.Leaf leaf :
          TreeEdit.leaves(KeyPath.parse("k", ch.key()), ch.value(), ch.operation())) {
        out = YamlText.apply("k", out, leaf);
        tree = TreeEdit.apply("k", tree, leaf);
      }
    }
    // upstream: arrays appended, missing maps created, key deleted; it re-serialises the whole
    // file (dropping the comment); we produce the same tree and keep every other byte
    JsonNode upstreamTree =
        JSON.readTree(
            "{\"kind\": \"KubeletConfiguration\", \"clusterDNS\": [\"10.96.0.10\", \"10.96.0.11\"],"
                + " \"evictionHard\": {\"memory.available\": \"100Mi\"}}");
    assertThat(TreeEdit.same(yaml.readTree(out), upstreamTree)).isTrue();
    assertThat(TreeEdit.same(tree, upstreamTree)).isTrue();
    assertThat(out)
        .isEqualTo(
            "# kubeadm\nkind: KubeletConfiguration\nclusterDNS:\n- 10.96.0.10\n- 10.96.0.11\n"
                + "evictionHard:\n  memory.available: 100Mi\n");
  }

  @Test
  void containerdSameTreeAsUpstreamWithCommentsKept() throws Exception {
    TomlMapper toml = new TomlMapper();
    String file =
        "version = 2 # schema\n[plugins.\"io.containerd.grpc.v1.cri\"]\nsandbox_image = \"p:1\"\n";
    String out = file;
    for (SettingChange ch :
        new SettingChange[] {
          c("plugins.\"io.containerd.grpc.v1.cri\".sandbox_image", "\"p:2\"", ""),
          c(
              "plugins.\"io.containerd.grpc.v1.cri\".registry.config_path",
              "\"/etc/containerd/certs.d\"",
              "")
        }) {
      for (TreeEdit.Leaf leaf :
          TreeEdit.leaves(KeyPath.parse("c", ch.key()), ch.value(), ch.operation())) {
        out = TomlText.apply("c", out, leaf);
      }
    }
    JsonNode upstreamTree =
        JSON.readTree(
            "{\"version\": 2, \"plugins\": {\"io.containerd.grpc.v1.cri\": {\"sandbox_image\":"
                + " \"p:2\", \"registry\": {\"config_path\": \"/etc/containerd/certs.d\"}}}}");
    assertThat(TreeEdit.same(toml.readTree(out), upstreamTree)).isTrue();
    assertThat(out).startsWith("version = 2 # schema\n");
  }
}
