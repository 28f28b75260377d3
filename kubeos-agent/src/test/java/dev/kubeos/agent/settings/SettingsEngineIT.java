package dev.kubeos.agent.settings;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.agent.settings.model.SettingsRequest;
import dev.kubeos.agent.settings.model.TomlTextTest;
import dev.kubeos.agent.settings.model.YamlTextTest;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.api.agent.Slot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SettingsEngineIT {
  static final String ALL_MODELS =
      "{'version': 'v1', 'configs': ["
          + "{'model': 'kernel.sysctl', 'contents': [{'key': 'net.ipv4.ip_forward', 'value': 1},"
          + "  {'key': 'net.ipv4.tcp_rmem', 'value': '4096 131072 6291456'}]},"
          + "{'model': 'kernel.sysctl.persist', 'contents': [{'key': 'net.ipv4.ip_forward', 'value': '1'},"
          + "  {'key': 'vm.swappiness', 'value': '10', 'operation': 'delete'}]},"
          + "{'model': 'grub.cmdline.current', 'contents': [{'key': 'quiet', 'value': ''},"
          + "  {'key': 'console', 'value': 'ttyS0'}]},"
          + "{'model': 'grub.cmdline.next', 'contents': [{'key': 'audit', 'value': '1'}]},"
          + "{'model': 'kubernetes.kubelet', 'contents': ["
          + "  {'key': 'evictionHard.\\'memory.available\\'', 'value': '200Mi'},"
          + "  {'key': 'clusterDNS', 'value': ['10.96.0.11']},"
          + "  {'key': 'maxPods', 'operation': 'delete'}]},"
          + "{'model': 'container.containerd', 'contents': ["
          + "  {'key': 'plugins.\\'io.containerd.grpc.v1.cri\\'.sandbox_image', 'value': 'registry.k8s.io/pause:3.9'}]},"
          + "{'model': 'pam.limits', 'contents': [{'key': '*', 'value': 'soft.nofile.65535'},"
          + "  {'key': '@admin', 'value': 'hard.nproc.200'}]}]}";

  @TempDir Path dir;
  Node node;

  @BeforeEach
  void setUp() throws IOException {
    node = new Node(dir);
  }

  @Test
  void appliesEveryModelKeepingOtherLinesAndASecondApplyChangesNothing() throws Exception {
    SettingsResult first = node.engine().apply(Node.request(ALL_MODELS), false);

    assertThat(first.changed()).isTrue();
    assertThat(node.read("proc/sys/net/ipv4/ip_forward")).isEqualTo("1\n");
    assertThat(node.read("proc/sys/net/ipv4/tcp_rmem")).isEqualTo("4096\t131072\t6291456\n");
    assertThat(node.read("etc/sysctl.conf")).isEqualTo("# from the image\nnet.ipv4.ip_forward=1\n");
    assertThat(node.cmdlines()).isEqualTo(Map.of(Slot.A, "quiet console=ttyS0", Slot.B, "audit=1"));
    assertThat(node.read("var/lib/kubelet/config.yaml"))
        .isEqualTo(
            YamlTextTest.KUBELET
                .replace("100Mi   #", "200Mi   #")
                .replace("- 10.96.0.10\n", "- 10.96.0.10\n- 10.96.0.11\n")
                .replace("maxPods: 110\n", ""));
    assertThat(node.read("etc/containerd/config.toml"))
        .isEqualTo(TomlTextTest.CONTAINERD.replace("pause:3.8", "pause:3.9"));
    assertThat(node.read("etc/security/limits.conf"))
        .isEqualTo(Node.LIMITS.replace("1024", "65535") + "@admin hard nproc 200\n");
    assertThat(first.describe(false))
        .contains("kubernetes.kubelet /var/lib/kubelet/config.yaml: changed");

    // the same request again: arrays are appended to by default, so use one without an append
    String noAppend = ALL_MODELS.replace("{'key': 'clusterDNS', 'value': ['10.96.0.11']},", "");
    node.engine().apply(Node.request(noAppend.replace("'v1'", "'v2'")), false);
    Map<String, String> before = node.snapshot();
    SettingsResult again =
        node.engine().apply(Node.request(noAppend.replace("'v1'", "'v3'")), false);
    assertThat(again.changed()).isFalse();
    assertThat(again.describe(false)).contains("no change").doesNotContain(": changed");
    assertThat(node.snapshot()).isEqualTo(before);
  }

  @Test
  void aRequestWhoseFifthChangeIsInvalidChangesNothing() throws Exception {
    Map<String, String> before = node.snapshot();
    String request =
        "{'version': 'v1', 'configs': ["
            + "{'model': 'kernel.sysctl.persist', 'contents': [{'key': 'vm.dirty_ratio', 'value': 1}]},"
            + "{'model': 'kubernetes.kubelet', 'contents': [{'key': 'maxPods', 'value': 50}]},"
            + "{'model': 'grub.cmdline.current', 'contents': [{'key': 'quiet'}]},"
            + "{'model': 'pam.limits', 'contents': [{'key': 'bob', 'value': 'hard.nofile.10'}]},"
            + "{'model': 'kernel.sysctl', 'contents': [{'key': 'net.ipv4.no_such_knob', 'value': 1}]}]}";
    assertThatThrownBy(() -> node.engine().apply(Node.request(request), false))
        .isInstanceOf(AgentException.class)
        .hasMessageContaining("kernel.sysctl, key 'net.ipv4.no_such_knob'")
        .hasMessageContaining("no such kernel parameter")
        .extracting(e -> ((AgentException) e).code())
        .isEqualTo(ErrorCode.INVALID_REQUEST);
    assertThat(node.snapshot()).isEqualTo(before);
  }

  @Test
  void validationNamesModelKeyAndReason() throws Exception {
    Files.createDirectories(dir.resolve("outside"));
    Files.createSymbolicLink(node.root.resolve("etc/escape"), dir.resolve("outside"));
    node.write("var/lib/kubelet/broken.yaml", "a: [1, 2\n");
    Map<String, String> before = node.snapshot();
    assertInvalid(
        "{'model': 'kernel.foo', 'contents': []}", "settings model kernel.foo: unknown model");
    assertInvalid(
        "{'model': 'kernel.sysctl.persist', 'configpath': '/usr/lib/x.conf', 'contents': []}",
        "outside the allowed directories");
    assertInvalid(
        "{'model': 'kernel.sysctl.persist', 'configpath': '/etc/../root/x.conf', 'contents': []}",
        "may not contain '.' or '..'");
    assertInvalid(
        "{'model': 'kernel.sysctl.persist', 'configpath': '/etc/escape/x.conf', 'contents': []}",
        "leads through a symbolic link");
    assertInvalid(
        "{'model': 'kubernetes.kubelet', 'configpath': '/var/lib/kubelet/broken.yaml', 'contents': [{'key': 'a', 'value': 1}]}",
        "does not parse as YAML");
    assertInvalid(
        "{'model': 'kernel.sysctl', 'contents': [{'key': 'vm.swappiness', 'value': {'x': 1}}]}",
        "kernel.sysctl, key 'vm.swappiness': value of the wrong type");
    assertInvalid(
        "{'model': 'kubernetes.kubelet', 'contents': [{'key': 'kind.x', 'value': 1}]}",
        "kubernetes.kubelet, key 'kind.x'");
    assertThat(node.snapshot()).isEqualTo(before);
  }

  private void assertInvalid(String config, String message) {
    assertThatThrownBy(
            () ->
                node.engine()
                    .apply(Node.request("{'version': 'v', 'configs': [" + config + "]}"), false))
        .isInstanceOf(AgentException.class)
        .hasMessageContaining(message)
        .extracting(e -> ((AgentException) e).code())
        .isEqualTo(ErrorCode.INVALID_REQUEST);
  }

  @Test
  void aFailureOnTheThirdFileWriteIsRolledBackCompletely() throws Exception {
    Map<String, String> before = node.snapshot();
    int[] writes = {0};
    SettingsWriter failing =
        new SettingsWriter() {
          @Override
          public void writeFile(Path path, String content) throws IOException {
            if (++writes[0] == 3) {
              throw new IOException("injected: disk full");
            }
            ATOMIC.writeFile(path, content);
          }

          @Override
          public void deleteFile(Path path) throws IOException {
            ATOMIC.deleteFile(path);
          }

          @Override
          public void writeProc(Path path, String value) throws IOException {
            ATOMIC.writeProc(path, value);
          }
        };
    assertThatThrownBy(() -> node.engine(failing).apply(Node.request(ALL_MODELS), false))
        .isInstanceOf(AgentException.class)
        .hasMessageContaining("injected: disk full")
        .hasMessageContaining("every change already made was restored")
        .extracting(e -> ((AgentException) e).code())
        .isEqualTo(ErrorCode.IO_ERROR);
    assertThat(writes[0]).isGreaterThanOrEqualTo(3);
    assertThat(node.snapshot()).isEqualTo(before);
  }

  @Test
  void aFailedBootEnvWriteRestoresTheFilesAndProcValues() throws Exception {
    Map<String, String> before = node.snapshot();
    node.store.fail = true;
    assertThatThrownBy(() -> node.engine().apply(Node.request(ALL_MODELS), false))
        .hasMessageContaining("injected: ESP write failed")
        .hasMessageContaining("restored");
    node.store.fail = false;
    assertThat(node.snapshot()).isEqualTo(before);
  }

  @Test
  void dryRunPrintsTheDiffAndChangesNothing() throws Exception {
    Map<String, String> before = node.snapshot();
    SettingsResult r = node.engine().apply(Node.request(ALL_MODELS), true);
    assertThat(node.snapshot()).isEqualTo(before);
    String text = r.describe(true);
    assertThat(text)
        .contains("kernel.sysctl.persist /etc/sysctl.conf: would change")
        .contains("--- /etc/sysctl.conf\n+++ /etc/sysctl.conf\n")
        .contains("-vm.swappiness = 10\n+net.ipv4.ip_forward=1\n")
        .contains("--- kernel command line of slot A\n")
        .contains("+quiet console=ttyS0\n")
        .contains(
            "-  memory.available: 100Mi   # default\n+  memory.available: 200Mi   # default\n");
  }

  @Test
  void revertRestoresTheStateBeforeAVersionIncludingFilesCreatedByIt() throws Exception {
    Files.delete(node.root.resolve("var/lib/kubelet/config.yaml"));
    Map<String, String> original = node.snapshot();
    node.engine().apply(Node.request(ALL_MODELS), false);
    assertThat(node.read("var/lib/kubelet/config.yaml"))
        .isEqualTo("evictionHard:\n  memory.available: 200Mi\nclusterDNS:\n- 10.96.0.11\n");
    Map<String, String> afterV1 = node.snapshot();
    SettingsRequest v2 =
        Node.request(
            "{'version': 'v2', 'configs': [{'model': 'kernel.sysctl.persist', 'contents':"
                + " [{'key': 'kernel.pid_max', 'value': 4194304}]},"
                + "{'model': 'grub.cmdline.current', 'contents': [{'key': 'quiet', 'operation': 'delete'}]}]}");
    node.engine().apply(v2, false);

    node.engine().revert("v2", false);
    assertThat(node.snapshot()).isEqualTo(afterV1);

    node.engine().apply(v2, false);
    SettingsResult r = node.engine().revert("v1", false);
    assertThat(r.changed()).isTrue();
    assertThat(node.snapshot()).isEqualTo(original);
    assertThat(Files.exists(node.root.resolve("var/lib/kubelet/config.yaml"))).isFalse();
    assertThatThrownBy(() -> node.engine().revert("v1", false))
        .hasMessageContaining("no applied settings version 'v1'");
  }

  @Test
  void filesAbsentAtFirstAreCreatedAndACommandLineTooLongForTheEnvIsRefused() throws Exception {
    for (String f :
        new String[] {
          "etc/sysctl.conf",
          "etc/security/limits.conf",
          "etc/containerd/config.toml",
          "var/lib/kubelet/config.yaml"
        }) {
      Files.delete(node.root.resolve(f));
    }
    node.engine()
        .apply(
            Node.request(
                "{'version': 'v1', 'configs': ["
                    + "{'model': 'kernel.sysctl.persist', 'contents': [{'key': 'vm.dirty_ratio', 'value': 1}]},"
                    + "{'model': 'pam.limits', 'contents': [{'key': '*', 'value': 'hard.core.0'}]},"
                    + "{'model': 'container.containerd', 'contents': [{'key': 'version', 'value': 2},"
                    + "  {'key': 'plugins.\\'io.containerd.grpc.v1.cri\\'.sandbox_image', 'value': 'p:1'}]},"
                    + "{'model': 'kubernetes.kubelet', 'contents': [{'key': 'a.b', 'value': [1]}]}]}"),
            false);
    assertThat(node.read("etc/sysctl.conf")).isEqualTo("vm.dirty_ratio=1\n");
    assertThat(node.read("etc/security/limits.conf")).isEqualTo("* hard core 0\n");
    assertThat(node.read("etc/containerd/config.toml"))
        .isEqualTo(
            "version = 2\n\n[plugins.\"io.containerd.grpc.v1.cri\"]\nsandbox_image = \"p:1\"\n");
    assertThat(node.read("var/lib/kubelet/config.yaml")).isEqualTo("a:\n  b:\n  - 1\n");

    Map<String, String> before = node.snapshot();
    String longValue = "x".repeat(600);
    assertThatThrownBy(
            () ->
                node.engine()
                    .apply(
                        Node.request(
                            "{'version': 'v2', 'configs': [{'model': 'grub.cmdline.current',"
                                + " 'contents': [{'key': 'a', 'value': '"
                                + longValue
                                + "'}]},"
                                + "{'model': 'grub.cmdline.next', 'contents': [{'key': 'b',"
                                + " 'value': '"
                                + longValue
                                + "'}]}]}"),
                        false))
        .hasMessageContaining("grub.cmdline.next")
        .hasMessageContaining("would not fit the GRUB environment block");
    assertThat(node.snapshot()).isEqualTo(before);
  }

  @Test
  void aLinkInsideTheAllowedDirectoriesIsWrittenThroughAndKept() throws Exception {
    node.write("etc/sysctl.d/99-kubeos.conf", "vm.dirty_ratio = 1\n");
    Files.delete(node.root.resolve("etc/sysctl.conf"));
    Files.createSymbolicLink(
        node.root.resolve("etc/sysctl.conf"), Path.of("sysctl.d/99-kubeos.conf"));
    node.engine()
        .apply(
            Node.request(
                "{'version': 'v1', 'configs': [{'model': 'kernel.sysctl.persist', 'contents':"
                    + " [{'key': 'vm.dirty_ratio', 'value': 2}]}]}"),
            false);
    assertThat(Files.isSymbolicLink(node.root.resolve("etc/sysctl.conf"))).isTrue();
    assertThat(node.read("etc/sysctl.d/99-kubeos.conf")).isEqualTo("vm.dirty_ratio = 2\n");
  }
}
