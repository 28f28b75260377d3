package dev.kubeos.agent.settings;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.agent.settings.model.SettingsRequest;
import dev.kubeos.api.agent.ErrorCode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the engine leaves on real files: modes, honest failure messages, version file names. */
class SettingsFilesIT {
  @TempDir Path dir;
  Node node;

  @BeforeEach
  void setUp() throws IOException {
    node = new Node(dir);
  }

  private String mode(String path) throws IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(node.root.resolve(path)));
  }

  private void chmod(String path, String mode) throws IOException {
    Files.setPosixFilePermissions(node.root.resolve(path), PosixFilePermissions.fromString(mode));
  }

  @Test
  void configuredFilesKeepTheirModeAndNewOnesAre0644() throws Exception {
    chmod("etc/sysctl.conf", "rw-r--r--");
    chmod("etc/security/limits.conf", "rw-r-----");
    chmod("var/lib/kubelet/config.yaml", "rw-------");
    node.engine()
        .apply(
            Node.request(
                "{'version': 'v1', 'configs': ["
                    + "{'model': 'kernel.sysctl.persist', 'contents': [{'key': 'vm.dirty_ratio',"
                    + " 'value': 5}]},"
                    + "{'model': 'kernel.sysctl.persist', 'configpath': '/etc/sysctl.d/90-new.conf',"
                    + " 'contents': [{'key': 'vm.dirty_ratio', 'value': 5}]},"
                    + "{'model': 'pam.limits', 'contents': [{'key': '*', 'value':"
                    + " 'hard.core.0'}]},"
                    + "{'model': 'kubernetes.kubelet', 'contents': [{'key': 'maxPods', 'value':"
                    + " 50}]}]}"),
            false);
    assertThat(node.read("etc/sysctl.conf")).endsWith("vm.dirty_ratio=5\n");
    assertThat(mode("etc/sysctl.conf")).isEqualTo("rw-r--r--");
    assertThat(mode("etc/security/limits.conf")).isEqualTo("rw-r-----");
    assertThat(mode("var/lib/kubelet/config.yaml")).isEqualTo("rw-------");
    assertThat(mode("etc/sysctl.d/90-new.conf")).isEqualTo("rw-r--r--");
    try (Stream<Path> left = Files.list(node.root.resolve("etc"))) {
      assertThat(left.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".tmp"));
    }
  }

  @Test
  void aFailureNamesOnlyTargetsThatWereChangedAndNotRestored() throws Exception {
    Map<String, String> before = node.snapshot();
    int[] writes = {0};
    SettingsWriter failing =
        new SettingsWriter() {
          @Override
          public void writeFile(Path path, String content) throws IOException {
            if (++writes[0] >= 2) {
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
    String request =
        "{'version': 'v1', 'configs': ["
            + "{'model': 'kernel.sysctl', 'contents': [{'key': 'vm.swappiness', 'value': 1}]},"
            + "{'model': 'kernel.sysctl.persist', 'contents': [{'key': 'vm.dirty_ratio', 'value':"
            + " 5}]},"
            + "{'model': 'pam.limits', 'contents': [{'key': '*', 'value': 'hard.core.0'}]}]}";
    // sysctl.conf is written, limits.conf fails untouched; restoring sysctl.conf fails too
    assertThatThrownBy(() -> node.engine(failing).apply(Node.request(request), false))
        .hasMessageContaining("injected: disk full")
        .hasMessageContaining(
            "COULD NOT RESTORE [" + node.root.toRealPath().resolve("etc/sysctl.conf") + "]")
        .hasMessageNotContaining("limits.conf")
        .extracting(e -> ((dev.kubeos.api.agent.AgentException) e).code())
        .isEqualTo(ErrorCode.IO_ERROR);
    assertThat(node.read("etc/security/limits.conf")).isEqualTo(Node.LIMITS);
    assertThat(node.read("proc/sys/vm/swappiness")).isEqualTo("60\n");

    // the first file write fails: nothing was changed, so nothing is reported unrestored
    Files.writeString(node.root.resolve("etc/sysctl.conf"), Node.SYSCTL_CONF);
    assertThat(node.snapshot()).isEqualTo(before);
    writes[0] = 1;
    assertThatThrownBy(() -> node.engine(failing).apply(Node.request(request), false))
        .hasMessageContaining("every change already made was restored")
        .hasMessageNotContaining("COULD NOT RESTORE");
    assertThat(node.snapshot()).isEqualTo(before);
  }

  @Test
  void upstreamsVersionStringNamesItsRecordByHashAndRevertsByTheStringAsGiven() throws Exception {
    SettingsRequest v =
        new SettingsRequest(
            "KubeOS 2.0.0/../../x",
            Node.request(
                    "{'version': 'ignored', 'configs': [{'model': 'kernel.sysctl.persist',"
                        + " 'contents': [{'key': 'vm.dirty_ratio', 'value': 5}]}]}")
                .configs());
    Map<String, String> before = node.snapshot();
    node.engine().apply(v, false);
    try (Stream<Path> records = Files.list(node.stateDir.resolve("settings/history"))) {
      assertThat(records.map(p -> p.getFileName().toString()))
          .singleElement()
          .satisfies(n -> assertThat(n).matches("000001-sha256-[0-9a-f]{32}\\.json"));
    }
    try (Stream<Path> all = Files.walk(dir)) {
      assertThat(all.map(Path::toString)).noneMatch(p -> p.endsWith("x.json"));
    }
    node.engine().revert("KubeOS 2.0.0/../../x", false);
    assertThat(node.snapshot()).isEqualTo(before);
  }
}
