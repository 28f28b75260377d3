package dev.kubeos.agent.settings.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.TextNode;
import org.junit.jupiter.api.Test;

class LineModelsTest {
  private static SettingChange c(String key, String value, ChangeOperation op) {
    return new SettingChange(key, value == null ? null : TextNode.valueOf(value), op);
  }

  @Test
  void sysctlPersistUpdatesInPlaceAppendsAndDeletesOnlyMatchingValues() {
    String conf = "# tuning\nnet.ipv4.ip_forward=0\nvm.swappiness = 10 \n";
    assertThat(SysctlText.apply(conf, c("net.ipv4.ip_forward", "1", ChangeOperation.UPDATE)))
        .isEqualTo("# tuning\nnet.ipv4.ip_forward=1\nvm.swappiness = 10 \n");
    assertThat(SysctlText.apply(conf, c("kernel.pid_max", "4194304", ChangeOperation.UPDATE)))
        .isEqualTo(conf + "kernel.pid_max=4194304\n");
    assertThat(SysctlText.apply(conf, c("vm.swappiness", "10", ChangeOperation.UPDATE)))
        .isEqualTo(conf);
    assertThat(SysctlText.apply(conf, c("vm.swappiness", "60", ChangeOperation.DELETE)))
        .isEqualTo(conf);
    assertThat(SysctlText.apply(conf, c("vm.swappiness", "10", ChangeOperation.DELETE)))
        .isEqualTo("# tuning\nnet.ipv4.ip_forward=0\n");
    assertThat(SysctlText.apply(conf, c("vm.swappiness", null, ChangeOperation.DELETE)))
        .isEqualTo(conf);
    assertThat(SysctlText.apply("", c("a.b", "1", ChangeOperation.UPDATE))).isEqualTo("a.b=1\n");
    assertThatThrownBy(() -> SysctlText.apply(conf, c("bad key", "1", ChangeOperation.UPDATE)))
        .hasMessageContaining("kernel.sysctl.persist, key 'bad key'");
    assertThatThrownBy(
            () ->
                SysctlText.apply(
                    conf,
                    new SettingChange(
                        "a.b",
                        JsonNodeFactory.instance.arrayNode().add(1),
                        ChangeOperation.UPDATE)))
        .hasMessageContaining("wrong type");
  }

  @Test
  void cmdlineAddsUpdatesAndDeletesBareAndValuedParameters() {
    String m = "grub.cmdline.current";
    assertThat(CmdlineText.apply(m, "", c("quiet", "", ChangeOperation.UPDATE))).isEqualTo("quiet");
    assertThat(CmdlineText.apply(m, "quiet", c("console", "ttyS0", ChangeOperation.UPDATE)))
        .isEqualTo("quiet console=ttyS0");
    assertThat(
            CmdlineText.apply(
                m,
                "console=tty0 quiet console=ttyS1",
                c("console", "ttyS0", ChangeOperation.UPDATE)))
        .isEqualTo("console=ttyS0 quiet");
    assertThat(
            CmdlineText.apply(m, "quiet console=ttyS0", c("quiet", null, ChangeOperation.DELETE)))
        .isEqualTo("console=ttyS0");
    assertThat(CmdlineText.apply(m, "console=ttyS0", c("console", "tty0", ChangeOperation.DELETE)))
        .isEqualTo("console=ttyS0");
    assertThatThrownBy(
            () -> CmdlineText.apply(m, "", c("kubeos.slot", "B", ChangeOperation.UPDATE)))
        .hasMessageContaining("boot contract");
    assertThatThrownBy(() -> CmdlineText.apply(m, "", c("x", "a;reboot", ChangeOperation.UPDATE)))
        .hasMessageContaining("may not contain");
  }

  @Test
  void pamLimitsMatchesDomainTypeAndItemAndKeepsUnderscoreFields() {
    String conf = "# limits\n*\tsoft\tnofile\t1024\n@admin  hard  nproc  100  # admins\n";
    String p = PamLimitsText.MODEL;
    assertThat(PamLimitsText.apply(conf, c("*", "soft.nofile.65535", ChangeOperation.UPDATE)))
        .isEqualTo("# limits\n*\tsoft\tnofile\t65535\n@admin  hard  nproc  100  # admins\n");
    assertThat(PamLimitsText.apply(conf, c("@admin", "_._.200", ChangeOperation.UPDATE)))
        .isEqualTo("# limits\n*\tsoft\tnofile\t1024\n@admin  hard  nproc  200  # admins\n");
    assertThat(PamLimitsText.apply(conf, c("*", "hard.nofile.4096", ChangeOperation.UPDATE)))
        .isEqualTo(conf + "* hard nofile 4096\n");
    assertThat(PamLimitsText.apply(conf, c("*", "soft.nofile._", ChangeOperation.DELETE)))
        .isEqualTo("# limits\n@admin  hard  nproc  100  # admins\n");
    assertThat(PamLimitsText.apply(conf, c("*", "soft.nofile.99", ChangeOperation.DELETE)))
        .isEqualTo(conf);
    assertThatThrownBy(
            () -> PamLimitsText.apply(conf, c("bob", "_.nofile.1", ChangeOperation.UPDATE)))
        .hasMessageContaining(p)
        .hasMessageContaining("no line for bob");
    assertThatThrownBy(
            () -> PamLimitsText.apply(conf, c("*", "soft.files.1", ChangeOperation.UPDATE)))
        .hasMessageContaining("limits.conf item");
  }

  @Test
  void diffShowsHunksWithContext() {
    String d =
        UnifiedDiff.of("/etc/a", "1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\n3\n4\nfive\n6\n7\n8\n9\n");
    assertThat(d)
        .isEqualTo("--- /etc/a\n+++ /etc/a\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
    assertThat(UnifiedDiff.of("/etc/b", null, "x\n"))
        .isEqualTo("--- /dev/null\n+++ /etc/b\n@@ -0,0 +1,1 @@\n+x\n");
    assertThat(UnifiedDiff.of("/etc/b", "x\n", "x\n")).isEmpty();
  }
}
