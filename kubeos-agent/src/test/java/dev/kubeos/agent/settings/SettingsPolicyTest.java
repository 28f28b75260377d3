package dev.kubeos.agent.settings;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The node-local settings policy: its default rules one by one, its file format, fail-closed. */
class SettingsPolicyTest {
  static final SettingsPolicy DEFAULTS = SettingsPolicy.defaults();
  static final String SRC = "compiled-in defaults";

  @TempDir Path dir;

  private static AbstractThrowableAssert<?, ? extends Throwable> refused(Runnable check) {
    return assertThatThrownBy(check::run)
        .isInstanceOf(AgentException.class)
        .satisfies(e -> assertThat(((AgentException) e).code()).isEqualTo(ErrorCode.POLICY_DENIED))
        .hasMessageStartingWith("settings policy")
        .hasMessageEndingWith("; nothing was changed");
  }

  @Test
  void everyDefaultSysctlDenyRuleRefusesItsKeyNamingTheRule() throws Exception {
    JsonNode deny = new ObjectMapper().readTree(SettingsPolicy.defaultsText()).at("/sysctl/deny");
    assertThat(deny).hasSizeGreaterThanOrEqualTo(6);
    for (JsonNode rule : deny) {
      String text = rule.asText();
      String key = text.contains("=") ? text.substring(0, text.indexOf('=')) : text;
      String value = text.contains("=") ? text.substring(text.indexOf('=') + 1) : "1";
      for (String model : List.of("kernel.sysctl", "kernel.sysctl.persist")) {
        refused(() -> DEFAULTS.checkSysctl(model, key, value))
            .hasMessage(
                "settings policy: "
                    + model
                    + " key "
                    + key
                    + " is denied (rule deny-sysctl "
                    + text
                    + ", "
                    + SRC
                    + "); nothing was changed");
      }
    }
  }

  @Test
  void theEscalationSysctlsAreRefusedInEverySpelling() {
    for (String[] kv :
        new String[][] {
          {"kernel.core_pattern", "|/tmp/evil %p"},
          {"kernel/core_pattern", "|/tmp/evil"},
          {"-kernel.core_pattern", "|/tmp/evil"},
          {"kernel.modprobe", "/tmp/evil"},
          {"kernel.usermodehelper.bset", "4294967295 4294967295"},
          {"kernel.usermodehelper.inheritable", "4294967295 4294967295"},
          {"kernel.poweroff_cmd", "/tmp/evil"},
          {"fs.binfmt_misc.register", ":x:E::evil::/tmp/evil:C"},
          {"kernel.*", "x"},
          {"kernel.core_pat*", "x"},
          {"ker*", "x"},
          {"*", "x"},
          {"kernel.panic", "0"},
          {"kernel.panic", "00"},
          {"kernel.panic", "0x0"},
          {"kernel.panic", "-0"},
          {"kernel.pan*", "0"},
        }) {
      refused(() -> DEFAULTS.checkSysctl("kernel.sysctl.persist", kv[0], kv[1]))
          .hasMessageContaining("key " + kv[0] + " is denied (rule deny-sysctl ");
    }
  }

  @Test
  void ordinarySysctlsAndUpstreamsExamplesPass() {
    for (String[] kv :
        new String[][] {
          {"net.ipv4.ip_forward", "1"},
          {"net.ipv4.conf.all.rp_filter", "2"},
          {"net/ipv4/conf/eth0.100/forwarding", "1"},
          {"net.ipv4.conf.*.rp_filter", "1"},
          {"vm.max_map_count", "262144"},
          {"vm.swappiness", "10"},
          {"kernel.sysrq", ""},
          {"kernel.panic", "5"},
          {"kernel.pid_max", "4194304"},
          {"fs.inotify.max_user_watches", "524288"},
          {"user.max_user_namespaces", "0"},
        }) {
      assertThatCode(() -> DEFAULTS.checkSysctl("kernel.sysctl", kv[0], kv[1]))
          .as(kv[0])
          .doesNotThrowAnyException();
    }
    refused(() -> DEFAULTS.checkSysctl("kernel.sysctl.persist", "a.b", "1"))
        .hasMessageContaining("key a.b is not allowed (rule allow-sysctl [abi, crypto,");
  }

  @Test
  void everyDefaultCmdlineDenyRuleRefusesItsParameterInBothGrubModels() throws Exception {
    JsonNode deny = new ObjectMapper().readTree(SettingsPolicy.defaultsText()).at("/cmdline/deny");
    List<String> rules = new ArrayList<>();
    deny.forEach(r -> rules.add(r.asText()));
    assertThat(rules).contains("init", "rdinit", "panic=0", "apparmor", "lsm", "security");
    for (String rule : rules) {
      String name = rule.contains("=") ? rule.substring(0, rule.indexOf('=')) : rule;
      name = name.replace("*", "x");
      String value = rule.contains("=") ? rule.substring(rule.indexOf('=') + 1) : "/bin/sh";
      for (String model : List.of("grub.cmdline.current", "grub.cmdline.next")) {
        String n = name;
        refused(() -> DEFAULTS.checkCmdline(model, n, value))
            .hasMessage(
                "settings policy: "
                    + model
                    + " parameter "
                    + n
                    + "="
                    + value
                    + " is denied (rule deny-cmdline "
                    + rule
                    + ", "
                    + SRC
                    + "); nothing was changed");
      }
    }
  }

  @Test
  void theEscalationParametersAreRefusedInEverySpelling() {
    for (String[] kv :
        new String[][] {
          {"init", "/bin/sh"},
          {"init", ""},
          {"rdinit", "/bin/sh"},
          {"panic", "0"},
          {"panic", "00"},
          {"panic", "0x0"},
          {"panic", "+0"},
          {"--", ""},
          {"-b", ""},
          {"systemd.debug-shell", "1"},
          {"systemd.run", "/tmp/evil"},
          {"kubeos.anything", "1"},
          {"single", ""},
        }) {
      refused(() -> DEFAULTS.checkCmdline("grub.cmdline.next", kv[0], kv[1]))
          .hasMessageContaining("is denied (rule deny-cmdline ");
    }
    refused(() -> DEFAULTS.checkCmdline("grub.cmdline.next", "sysctl.kernel.core_pattern", "|x"))
        .hasMessageContaining(
            "grub.cmdline.next parameter sysctl.kernel.core_pattern=|x is denied (rule deny-sysctl"
                + " kernel.core_pattern,");
    for (String[] kv :
        new String[][] {
          {"selinux", "0"},
          {"panic", "3"},
          {"panic", "-1"},
          {"quiet", ""},
          {"console", "ttyS0,115200"},
          {"nomodeset", ""},
          {"audit", "1"},
          {"sysctl.vm.swappiness", "10"},
        }) {
      assertThatCode(() -> DEFAULTS.checkCmdline("grub.cmdline.current", kv[0], kv[1]))
          .as(kv[0] + "=" + kv[1])
          .doesNotThrowAnyException();
    }
  }

  private static void key(String model, String key) {
    DEFAULTS.checkKey(model, key, dev.kubeos.agent.settings.model.KeyPath.parse(model, key));
  }

  @Test
  void everyDefaultKeyDenyRuleRefusesItsKeyTheKeysBelowAndTheMapsAbove() throws Exception {
    JsonNode keys = new ObjectMapper().readTree(SettingsPolicy.defaultsText()).get("keys");
    for (String model : List.of("kubernetes.kubelet", "container.containerd")) {
      assertThat(keys.at("/" + model + "/deny")).isNotEmpty();
      for (JsonNode rule : keys.at("/" + model + "/deny")) {
        String key = rule.asText().replace("*", "\"io.containerd.grpc.v1.cri\"");
        refused(() -> key(model, key))
            .hasMessage(
                "settings policy: "
                    + model
                    + " key "
                    + key
                    + " is denied (rule keys."
                    + model
                    + ".deny "
                    + rule.asText()
                    + ", "
                    + SRC
                    + "); nothing was changed");
        refused(() -> key(model, key + ".below"));
      }
    }
    for (String[] mk :
        new String[][] {
          {"kubernetes.kubelet", "authentication.anonymous.enabled"},
          {"kubernetes.kubelet", "Authorization.Mode"},
          {"kubernetes.kubelet", "staticPodPath"},
          {"container.containerd", "plugins"},
          {"container.containerd", "plugins.\"io.containerd.grpc.v1.cri\""},
          {"container.containerd", "plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes"},
          {
            "container.containerd",
            "plugins.\"io.containerd.cri.v1.runtime\".containerd.runtimes.evil.options.BinaryName"
          },
          {"container.containerd", "plugins.\"io.containerd.grpc.v1.cri\".cni.bin_dir"},
        }) {
      refused(() -> key(mk[0], mk[1])).hasMessageContaining(" is denied (rule keys." + mk[0]);
    }
    for (String[] mk :
        new String[][] {
          {"kubernetes.kubelet", "maxPods"},
          {"kubernetes.kubelet", "evictionHard.\"memory.available\""},
          {"kubernetes.kubelet", "clusterDNS"},
          {"container.containerd", "plugins.\"io.containerd.grpc.v1.cri\".sandbox_image"},
          {"container.containerd", "plugins.\"io.containerd.grpc.v1.cri\".enable_cdi"},
          {
            "container.containerd",
            "plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options.SystemdCgroup"
          },
          {"container.containerd", "version"},
        }) {
      assertThatCode(() -> key(mk[0], mk[1])).as(mk[1]).doesNotThrowAnyException();
    }
  }

  @Test
  void eachFileModelMayWriteItsOwnFilesOnly() {
    for (String[] ok :
        new String[][] {
          {"kernel.sysctl.persist", "/etc/sysctl.conf"},
          {"kernel.sysctl.persist", "/etc/sysctl.d/90-node.conf"},
          {"kernel.sysctl.persist", "/etc/persist.conf"},
          {"kubernetes.kubelet", "/var/lib/kubelet/config.yaml"},
          {"container.containerd", "/etc/containerd/config.toml"},
          {"container.containerd", "/etc/containerd/conf.d/10-cri.toml"},
          {"pam.limits", "/etc/security/limits.conf"},
          {"pam.limits", "/etc/security/limits.d/90-nofile.conf"},
        }) {
      assertThatCode(() -> DEFAULTS.checkPath(ok[0], ok[1], ok[1])).doesNotThrowAnyException();
    }
    refused(
            () ->
                DEFAULTS.checkPath(
                    "kernel.sysctl.persist", "/etc/profile.d/zz.sh", "/etc/profile.d/zz.sh"))
        .hasMessage(
            "settings policy: kernel.sysctl.persist configpath /etc/profile.d/zz.sh is not allowed"
                + " (rule paths.kernel.sysctl.persist [/etc/sysctl.conf, /etc/sysctl.d/*.conf,"
                + " /etc/persist.conf], compiled-in defaults); nothing was changed");
    for (String[] bad :
        new String[][] {
          {"kernel.sysctl.persist", "/etc/security/limits.conf"},
          {"kernel.sysctl.persist", "/etc/sysctl.d/sub/x.conf"},
          {"kernel.sysctl.persist", "/etc/sysctl.d/x.sh"},
          {"pam.limits", "/etc/sudoers"},
          {"pam.limits", "/etc/sysctl.conf"},
          {"kubernetes.kubelet", "/etc/kubernetes/manifests/evil.yaml"},
          {"kubernetes.kubelet", "/var/lib/kubelet/pki/kubelet.key"},
          {"container.containerd", "/etc/systemd/system/containerd.service"},
        }) {
      refused(() -> DEFAULTS.checkPath(bad[0], bad[1], bad[1]))
          .hasMessageContaining(bad[0] + " configpath " + bad[1] + " is not allowed");
    }
    refused(() -> DEFAULTS.checkPath("kernel.sysctl.persist", "/etc/sysctl.conf", "/etc/passwd"))
        .hasMessageContaining("resolves to /etc/passwd, which is not allowed");
  }

  @Test
  void aMissingFileMeansTheDefaultsAndTheShippedTextIsTheDefaults() {
    SettingsPolicy p = SettingsPolicy.load(dir.resolve("settings-policy.json"));
    assertThat(p.source()).isEqualTo(SRC + ", no " + dir.resolve("settings-policy.json"));
    refused(() -> p.checkSysctl("kernel.sysctl", "kernel.core_pattern", "x"))
        .hasMessageContaining("rule deny-sysctl kernel.core_pattern, compiled-in defaults, no ");
    assertThat(SettingsPolicy.defaultsText()).contains("\"kernel.core_pattern\"");
  }

  @Test
  void aNodeFileReplacesTheDefaultsInJsonOrYaml() throws IOException {
    Path json = dir.resolve("p.json");
    writePolicy(
        json,
        "{\"sysctl\": {\"allow\": [\"vm.swappiness\"]}, \"cmdline\": {\"allow\": [\"quiet\"]},"
            + " \"paths\": {\"kernel.sysctl.persist\": [\"/etc/sysctl.d/*.conf\"]}}");
    SettingsPolicy p = SettingsPolicy.load(json);
    assertThat(p.source()).isEqualTo(json.toString());
    assertThatCode(() -> p.checkSysctl("kernel.sysctl", "vm.swappiness", "1"))
        .doesNotThrowAnyException();
    refused(() -> p.checkSysctl("kernel.sysctl", "vm.dirty_ratio", "1"))
        .hasMessage(
            "settings policy: kernel.sysctl key vm.dirty_ratio is not allowed (rule allow-sysctl"
                + " [vm.swappiness] has none that matches, "
                + json
                + "); nothing was changed");
    refused(() -> p.checkCmdline("grub.cmdline.current", "console", "ttyS0"))
        .hasMessageContaining("allow-cmdline [quiet] has none that matches");
    refused(
            () ->
                p.checkPath("pam.limits", "/etc/security/limits.conf", "/etc/security/limits.conf"))
        .hasMessageContaining("pam.limits may write no file");

    Path yaml = dir.resolve("p.yaml");
    writePolicy(
        yaml,
        "# node policy\nsysctl:\n  allow: ['*']\n  deny: [kernel.core_pattern]\n"
            + "cmdline:\n  allow: ['*']\npaths: {}\n");
    SettingsPolicy y = SettingsPolicy.load(yaml);
    assertThatCode(() -> y.checkSysctl("kernel.sysctl.persist", "a.b", "1"))
        .doesNotThrowAnyException();
    refused(() -> y.checkSysctl("kernel.sysctl.persist", "kernel.core_pattern", "x"));
  }

  @Test
  void aFileOthersCanWriteBoundsNothingAndRefusesEverything() throws IOException {
    Path file = dir.resolve("settings-policy.json");
    writePolicy(file, SettingsPolicy.defaultsText());
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-rw-r--"));
    refused(SettingsPolicy.load(file)::requireUsable)
        .hasMessageContaining(
            "cannot be used (it is writable by group or others (rw-rw-r--), so it cannot bound"
                + " anything; chmod 0644 it)");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    assertThatCode(SettingsPolicy.load(file)::requireUsable).doesNotThrowAnyException();
  }

  @Test
  void aMalformedFileRefusesEverythingSayingWhy() throws IOException {
    String valid =
        "{\"sysctl\": {\"allow\": [\"*\"]}, \"cmdline\": {\"allow\": [\"*\"]}, \"paths\": {}}";
    for (String[] bad :
        new String[][] {
          {"{\"sysctl\": ", "does not parse"},
          {"[]", "the top level must be a map"},
          {valid.replace("\"paths\": {}", "\"pathz\": {}"), "unknown member 'pathz'"},
          {valid.replace(", \"paths\": {}", ""), "'paths' is missing"},
          {
            valid.replace("{\"allow\": [\"*\"]}, \"cmdline\"", "{\"alow\": [\"*\"]}, \"cmdline\""),
            "unknown member 'sysctl.alow'"
          },
          {
            valid.replace("\"cmdline\": {\"allow\": [\"*\"]}", "\"cmdline\": {}"),
            "'cmdline.allow' is missing"
          },
          {
            valid.replace("\"paths\": {}", "\"paths\": {\"pam.limits\": [\"etc/x\"]}"),
            "must be absolute"
          },
          {
            valid.replace("\"paths\": {}", "\"paths\": {\"pam.limits\": [\"/usr/x\"]}"),
            "outside the directories settings may ever write"
          },
          {
            valid.replace("\"paths\": {}", "\"paths\": {\"pam.limits\": [\"/etc/KubeOS/*\"]}"),
            "which settings may never write"
          },
          {
            valid.replace("\"paths\": {}", "\"paths\": {\"kernel.sysctl\": [\"/etc/x\"]}"),
            "not a model that writes files"
          },
          {
            valid.replace("[\"*\"]}, \"cmdline\"", "[\"net..x\"]}, \"cmdline\""),
            "not a sysctl key or prefix"
          },
          {valid.replace("\"paths\": {}", "\"paths\": {}, \"paths\": {}"), "does not parse"},
          {
            valid.replace("\"allow\": [\"*\"]}, \"paths\"", "\"allow\": [1]}, \"paths\""),
            "not a string"
          },
          {
            valid.replace("\"paths\": {}", "\"paths\": {}, \"keys\": {\"pam.limits\": {}}"),
            "not a model with dotted keys"
          },
          {
            valid.replace(
                "\"paths\": {}",
                "\"paths\": {}, \"keys\": {\"kubernetes.kubelet\": {\"deny\": [\"a..b\"]}}"),
            "not a dotted key"
          },
          {
            valid.replace(
                "\"paths\": {}",
                "\"paths\": {}, \"keys\": {\"kubernetes.kubelet\": {\"allow\": []}}"),
            "unknown member 'keys.kubernetes.kubelet.allow'"
          },
        }) {
      Path file = dir.resolve("settings-policy.json");
      writePolicy(file, bad[0]);
      SettingsPolicy p = SettingsPolicy.load(file);
      for (Runnable check :
          List.<Runnable>of(
              p::requireUsable,
              () -> p.checkSysctl("kernel.sysctl", "vm.swappiness", "1"),
              () -> p.checkCmdline("grub.cmdline.next", "quiet", ""),
              () -> p.checkPath("pam.limits", "/etc/security/limits.conf", "/etc/x"))) {
        refused(check)
            .as(bad[0])
            .hasMessageContaining("settings policy " + file + " cannot be used (")
            .hasMessageContaining(bad[1])
            .hasMessageContaining("every configure is refused until it is fixed");
      }
    }
  }

  /** Writes a policy file as root writes one under /etc: 0644, whatever the umask. */
  static void writePolicy(Path file, String text) throws IOException {
    Files.writeString(file, text);
    Files.setPosixFilePermissions(
        file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
  }
}
