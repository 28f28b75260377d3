package dev.kubeos.agent.settings;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.kubeos.agent.settings.model.SettingsRequest;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.api.agent.Slot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The settings policy through the engine on real files: upstream's examples pass, the escalation
 * vectors are refused whole and change nothing, a malformed policy file refuses everything; and
 * upstream's lenient shapes are skipped with a warning.
 */
class SettingsPolicyIT {
  static final Path UPSTREAM_EXAMPLES =
      Path.of("../kubeos-cluster/src/test/resources/upstream-examples");

  @TempDir Path dir;
  Node node;
  Path policyFile;

  @BeforeEach
  void setUp() throws IOException {
    node = new Node(dir);
    policyFile = dir.resolve("node-etc/KubeOS/settings-policy.json");
    node.write("proc/sys/kernel/core_pattern", "core\n");
    node.write("proc/sys/kernel/panic", "10\n");
    node.write("proc/sys/kernel/modprobe", "/sbin/modprobe\n");
  }

  /** Every sysconfigs/upgradeconfigs block of upstream's published examples, as requests. */
  static List<JsonNode> upstreamSettings() throws IOException {
    List<JsonNode> out = new ArrayList<>();
    List<Path> files;
    try (Stream<Path> s = Files.list(UPSTREAM_EXAMPLES)) {
      files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
    assertThat(files).as("fixtures in " + UPSTREAM_EXAMPLES.toAbsolutePath()).isNotEmpty();
    for (Path f : files) {
      try (MappingIterator<JsonNode> docs =
          new YAMLMapper().readerFor(JsonNode.class).readValues(f.toFile())) {
        for (JsonNode doc : docs.readAll()) {
          for (String block : List.of("sysconfigs", "upgradeconfigs")) {
            JsonNode n = doc.path("spec").path(block);
            if (n.path("configs").isArray() && n.path("configs").size() > 0) {
              out.add(n);
            }
          }
        }
      }
    }
    return out;
  }

  @Test
  void everyUpstreamExampleAndTheDocumentedRequestsPassTheDefaultPolicy() throws Exception {
    List<JsonNode> requests = upstreamSettings();
    assertThat(requests).hasSizeGreaterThanOrEqualTo(3);
    // docs/settings.md's example, and upstream's persist example with its own configpath
    requests.add(
        new ObjectMapper()
            .readTree(
                ("{'version': 'docs', 'configs': ["
                        + "{'model': 'kernel.sysctl.persist', 'configpath':"
                        + " '/etc/sysctl.d/90-node.conf', 'contents': [{'key':"
                        + " 'net.ipv4.ip_forward', 'value': 1}, {'key': 'vm.swappiness',"
                        + " 'value': 10, 'operation': 'delete'}]},"
                        + "{'model': 'kubernetes.kubelet', 'contents': ["
                        + " {'key': 'evictionHard.\\'memory.available\\'', 'value': '200Mi'},"
                        + " {'key': 'clusterDNS', 'value': ['10.96.0.10'], 'operation':"
                        + " 'replace'}]},"
                        + "{'model': 'kernel.sysctl.persist', 'configpath':"
                        + " '/etc/persist.conf', 'contents': [{'key': 'net.ipv4.ip_forward',"
                        + " 'value': 1}]}]}")
                    .replace('\'', '"')));
    // each request gets the same answer under the defaults as under a policy allowing everything
    Path allowAll = dir.resolve("allow-all.json");
    writePolicy(
        allowAll,
        "{\"sysctl\": {\"allow\": [\"*\"]}, \"cmdline\": {\"allow\": [\"*\"]}, \"paths\": {"
            + "\"kernel.sysctl.persist\": [\"/etc/*\", \"/etc/*/*\"],"
            + " \"kubernetes.kubelet\": [\"/var/lib/kubelet/*\"],"
            + " \"container.containerd\": [\"/etc/containerd/*\"],"
            + " \"pam.limits\": [\"/etc/security/*\"]}}");
    int applied = 0;
    for (JsonNode r : requests) {
      SettingsRequest request = SettingsRequest.fromCr(r);
      for (var m : request.configs()) {
        if (m.model().equals("kernel.sysctl")) {
          for (var c : m.contents()) {
            Path proc = node.root.resolve("proc/sys").resolve(c.key().replace('.', '/'));
            if (!Files.exists(proc)) {
              node.write(node.root.relativize(proc).toString(), "0\n");
            }
          }
        }
      }
      String unrestricted = outcome(node.engine(allowAll), request, true);
      assertThat(outcome(node.engine(policyFile), request, true))
          .as(r.toString())
          .isEqualTo(unrestricted);
      if (unrestricted.startsWith("ok")) {
        node.engine(policyFile).apply(request, false);
        applied++;
      }
    }
    assertThat(applied).isGreaterThanOrEqualTo(requests.size() - 1);
    assertThat(node.read("etc/persist.conf")).isEqualTo("net.ipv4.ip_forward=1\n");
    assertThat(node.read("proc/sys/net/ipv4/conf/all/rp_filter")).isEqualTo("2\n");
    assertThat(node.cmdlines().get(Slot.B)).contains("selinux=0");
  }

  /** "ok" and the warnings, or the refusal's code and message. */
  private static String outcome(SettingsEngine engine, SettingsRequest request, boolean dryRun) {
    try {
      return "ok " + engine.apply(request, dryRun).warnings();
    } catch (AgentException e) {
      return e.code() + " " + e.getMessage();
    }
  }

  private void assertDeniedChangingNothing(String configs, String message) throws Exception {
    Map<String, String> before = node.snapshot();
    assertThatThrownBy(
            () ->
                node.engine(policyFile)
                    .apply(
                        Node.request(
                            "{'version': 'v1', 'configs': ["
                                + "{'model': 'kernel.sysctl', 'contents': [{'key':"
                                + " 'net.ipv4.ip_forward', 'value': 1}]},"
                                + "{'model': 'grub.cmdline.current', 'contents': [{'key':"
                                + " 'quiet'}]},"
                                + configs
                                + "]}"),
                        false))
        .isInstanceOf(AgentException.class)
        .hasMessage(message)
        .extracting(e -> ((AgentException) e).code())
        .isEqualTo(ErrorCode.POLICY_DENIED);
    assertThat(node.snapshot()).isEqualTo(before);
  }

  @Test
  void theAuditsEscalationsAreRefusedWholeNamingTheRule() throws Exception {
    String src = "compiled-in defaults, no " + policyFile;
    assertDeniedChangingNothing(
        "{'model': 'kernel.sysctl', 'contents': [{'key': 'kernel.core_pattern', 'value':"
            + " '|/tmp/evil %p'}]}",
        "settings policy: kernel.sysctl key kernel.core_pattern is denied (rule deny-sysctl"
            + " kernel.core_pattern, "
            + src
            + "); nothing was changed");
    assertDeniedChangingNothing(
        "{'model': 'kernel.sysctl.persist', 'configpath': '/etc/profile.d/zz.sh', 'contents':"
            + " [{'key': 'net.ipv4.ip_forward', 'value': 1}]}",
        "settings policy: kernel.sysctl.persist configpath /etc/profile.d/zz.sh is not allowed"
            + " (rule paths.kernel.sysctl.persist [/etc/sysctl.conf, /etc/sysctl.d/*.conf,"
            + " /etc/persist.conf], "
            + src
            + "); nothing was changed");
    assertDeniedChangingNothing(
        "{'model': 'grub.cmdline.next', 'contents': [{'key': 'panic', 'value': '0'}]}",
        "settings policy: grub.cmdline.next parameter panic=0 is denied (rule deny-cmdline"
            + " panic=0, "
            + src
            + "); nothing was changed");
    assertDeniedChangingNothing(
        "{'model': 'grub.cmdline.current', 'contents': [{'key': 'init', 'value': '/bin/sh'}]}",
        "settings policy: grub.cmdline.current parameter init=/bin/sh is denied (rule"
            + " deny-cmdline init, "
            + src
            + "); nothing was changed");
    assertDeniedChangingNothing(
        "{'model': 'grub.cmdline.next', 'contents': [{'key': 'apparmor', 'value': '0'}]}",
        "settings policy: grub.cmdline.next parameter apparmor=0 is denied (rule deny-cmdline"
            + " apparmor, "
            + src
            + "); nothing was changed");
    assertDeniedChangingNothing(
        "{'model': 'kernel.sysctl', 'contents': [{'key': 'kernel.panic', 'value': 0}]}",
        "settings policy: kernel.sysctl key kernel.panic is denied (rule deny-sysctl"
            + " kernel.panic=0, "
            + src
            + "); nothing was changed");
    assertDeniedChangingNothing(
        "{'model': 'kernel.sysctl.persist', 'contents': [{'key': 'kernel.modprobe', 'value':"
            + " '/tmp/evil'}]}",
        "settings policy: kernel.sysctl.persist key kernel.modprobe is denied (rule deny-sysctl"
            + " kernel.modprobe, "
            + src
            + "); nothing was changed");
    node.write("etc/KubeOS/health.json", "{}\n");
    assertDeniedChangingNothing(
        "{'model': 'pam.limits', 'configpath': '/etc/KubeOS/settings-policy.json', 'contents':"
            + " [{'key': '*', 'value': 'soft.nofile.1'}]}",
        "settings policy: pam.limits configpath /etc/KubeOS/settings-policy.json is inside the"
            + " agent's own configuration (rule never-write /etc/KubeOS, built in); nothing was"
            + " changed");
    // a link from an allowed name to another file is judged by where it leads
    Files.createSymbolicLink(node.root.resolve("etc/sysctl.d"), Path.of("profile.d"));
    Files.createDirectories(node.root.resolve("etc/profile.d"));
    assertDeniedChangingNothing(
        "{'model': 'kernel.sysctl.persist', 'configpath': '/etc/sysctl.d/zz.conf', 'contents':"
            + " [{'key': 'net.ipv4.ip_forward', 'value': 1}]}",
        "settings policy: kernel.sysctl.persist configpath /etc/sysctl.d/zz.conf resolves to"
            + " /etc/profile.d/zz.conf, which is not allowed (rule paths.kernel.sysctl.persist"
            + " [/etc/sysctl.conf, /etc/sysctl.d/*.conf, /etc/persist.conf], "
            + src
            + "); nothing was changed");
  }

  @Test
  void theNodesFileIsReadAtEveryRequestAndAMalformedOneRefusesEverything() throws Exception {
    SettingsEngine engine = node.engine(policyFile);
    String request =
        "{'version': 'v1', 'configs': [{'model': 'kernel.sysctl', 'contents': [{'key':"
            + " 'vm.swappiness', 'value': 10}]}]}";
    Files.createDirectories(policyFile.getParent());
    writePolicy(policyFile, "{\"sysctl\": {\"allow\": [\"net\"]}");
    Map<String, String> before = node.snapshot();
    assertThatThrownBy(() -> engine.apply(Node.request(request), false))
        .hasMessageContaining("settings policy " + policyFile + " cannot be used (does not parse")
        .extracting(e -> ((AgentException) e).code())
        .isEqualTo(ErrorCode.POLICY_DENIED);
    assertThatThrownBy(() -> engine.revert("v0", false)).hasMessageContaining("cannot be used");
    assertThat(node.snapshot()).isEqualTo(before);

    writePolicy(
        policyFile,
        "{\"sysctl\": {\"allow\": [\"net\"]}, \"cmdline\": {\"allow\": []}, \"paths\": {}}");
    assertThatThrownBy(() -> engine.apply(Node.request(request), false))
        .hasMessageContaining("vm.swappiness is not allowed (rule allow-sysctl [net]");
    assertThat(node.snapshot()).isEqualTo(before);

    writePolicy(
        policyFile,
        "{\"sysctl\": {\"allow\": [\"vm\"]}, \"cmdline\": {\"allow\": []}, \"paths\": {}}");
    assertThat(engine.apply(Node.request(request), false).changed()).isTrue();
    assertThat(node.read("proc/sys/vm/swappiness")).isEqualTo("10\n");
  }

  @Test
  void upstreamsLenientShapesAreSkippedWithAWarningAndTheRestApplied() throws Exception {
    SettingsResult r =
        node.engine(policyFile)
            .apply(
                Node.request(
                    "{'version': 'v1', 'configs': ["
                        + "{'model': 'kernel.sysctl', 'contents': ["
                        + "  {'key': 'kernel.sysrq', 'value': '', 'operation': 'delete'},"
                        + "  {'key': 'net.ipv4.ip_forward', 'value': 1},"
                        + "  {'key': 'vm.swappiness', 'value': null}]},"
                        + "{'model': 'kernel.sysctl.persist', 'contents': ["
                        + "  {'key': '', 'value': 1}, {'key': 'vm.dirty_ratio'},"
                        + "  {'key': 'vm.max_map_count', 'value': 262144}]},"
                        + "{'model': 'container.containerd', 'contents': ["
                        + "  {'key': 'version', 'value': null}]}]}"),
                false);
    assertThat(r.warnings())
        .containsExactly(
            "settings model kernel.sysctl, key 'kernel.sysrq': operation delete is not possible"
                + " for a running kernel value, entry skipped (as upstream does)",
            "settings model kernel.sysctl, key 'vm.swappiness': no value given for update, entry"
                + " skipped (as upstream does)",
            "settings model kernel.sysctl.persist: empty key, entry skipped (as upstream does)",
            "settings model kernel.sysctl.persist, key 'vm.dirty_ratio': no value given for"
                + " update, entry skipped (as upstream does)",
            "settings model container.containerd, key 'version': no value given for update, entry"
                + " skipped (as upstream does)");
    assertThat(node.read("proc/sys/net/ipv4/ip_forward")).isEqualTo("1\n");
    assertThat(node.read("proc/sys/vm/swappiness")).isEqualTo("60\n");
    assertThat(node.read("etc/sysctl.conf"))
        .isEqualTo(Node.SYSCTL_CONF + "vm.max_map_count=262144\n");
    assertThat(r.describe(false))
        .contains("warning: settings model kernel.sysctl, key 'kernel.sysrq': operation delete");

    // a real error next to a skipped entry is still refused whole
    Map<String, String> before = node.snapshot();
    assertThatThrownBy(
            () ->
                node.engine(policyFile)
                    .apply(
                        Node.request(
                            "{'version': 'v2', 'configs': [{'model': 'kernel.sysctl.persist',"
                                + " 'contents': [{'key': '', 'value': 1},"
                                + " {'key': 'vm.swappiness', 'value': 5},"
                                + " {'key': 'vm.x', 'value': 1, 'operation': 'frobnicate'}]}]}"),
                        false))
        .hasMessageContaining("unknown operation 'frobnicate'");
    assertThat(node.snapshot()).isEqualTo(before);
  }

  /** Writes a policy file as root writes one under /etc: 0644, whatever the umask. */
  static void writePolicy(Path file, String text) throws IOException {
    Files.writeString(file, text);
    Files.setPosixFilePermissions(
        file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
  }
}
