package dev.kubeos.agent.settings;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kubeos.agent.settings.model.SettingsRequest;
import dev.kubeos.api.Json;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ConfigureRequest;
import dev.kubeos.api.agent.ErrorCode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.lifecycle.BeforeProperty;

/**
 * A bounded fuzz run of the settings request parsers and the engine (on a small node tree in a temp
 * dir, the default policy): random models, keys, values, operations and config paths, mixed with
 * the escalation vectors. Whatever comes in, the answer is a result or a typed refusal (never
 * another exception), and a refusal changes nothing.
 */
class SettingsFuzzTest {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  private static final Set<ErrorCode> REFUSALS =
      Set.of(ErrorCode.INVALID_REQUEST, ErrorCode.POLICY_DENIED, ErrorCode.PRECONDITION_FAILED);

  private Path dir;
  private Node node;
  private Map<String, String> pristine;

  @BeforeProperty
  void createNode() throws IOException {
    dir = Files.createTempDirectory("settings-fuzz");
    node = new Node(dir);
    node.write("proc/sys/kernel/core_pattern", "core\n");
    node.write("proc/sys/kernel/panic", "10\n");
    pristine = node.snapshot();
  }

  @AfterProperty
  void deleteNode() throws IOException {
    try (Stream<Path> all = Files.walk(dir)) {
      all.sorted(Comparator.reverseOrder()).forEach(SettingsFuzzTest::delete);
    }
  }

  private static void delete(Path p) {
    try {
      Files.delete(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Property(tries = 400)
  void anyCrRequestIsAppliedOrRefusedChangingNothing(@ForAll("crRequests") JsonNode request)
      throws IOException {
    Map<String, String> before = node.snapshot();
    SettingsRequest parsed;
    try {
      parsed = SettingsRequest.fromCr(request);
    } catch (AgentException e) {
      assertThat(e.code()).as(request.toString()).isIn(REFUSALS);
      return;
    }
    try {
      node.engine().apply(parsed, true);
      assertThat(node.snapshot()).as("dry run: " + request).isEqualTo(before);
      node.engine().apply(parsed, false);
    } catch (AgentException e) {
      assertThat(e.code()).as(request + " -> " + e.getMessage()).isIn(REFUSALS);
      assertThat(node.snapshot()).as(request.toString()).isEqualTo(before);
    }
  }

  @Property(tries = 200)
  void anySocketRequestIsAppliedOrRefusedChangingNothing(@ForAll("crRequests") JsonNode cr)
      throws IOException {
    ObjectNode socket = F.objectNode();
    ArrayNode configs = socket.putArray("configs");
    for (JsonNode c : cr.path("configs")) {
      ObjectNode s = configs.addObject();
      s.set("model", c.get("model"));
      s.set("config_path", c.get("configpath"));
      ObjectNode contents = s.putObject("contents");
      for (JsonNode e : c.path("contents")) {
        ObjectNode info = contents.putObject(e.path("key").asText(""));
        info.set("value", e.get("value"));
        info.set("operation", e.get("operation"));
      }
    }
    Map<String, String> before = node.snapshot();
    ConfigureRequest request;
    try {
      request = Json.mapper().treeToValue(socket, ConfigureRequest.class);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      return; // the RPC layer answers these as invalid params before the agent sees them
    }
    try {
      node.engine().apply(SettingsRequest.fromSocket(request), false);
    } catch (AgentException e) {
      assertThat(e.code()).as(socket + " -> " + e.getMessage()).isIn(REFUSALS);
      assertThat(node.snapshot()).isEqualTo(before);
    }
  }

  @Property(tries = 100)
  void escalationsAreAlwaysRefusedAndChangeNothing(@ForAll("escalations") JsonNode request)
      throws IOException {
    Map<String, String> before = node.snapshot();
    try {
      node.engine().apply(SettingsRequest.fromCr(request), false);
      throw new AssertionError("applied: " + request);
    } catch (AgentException e) {
      assertThat(e.code()).as(request + " -> " + e.getMessage()).isIn(REFUSALS);
    }
    assertThat(node.snapshot()).isEqualTo(before);
    assertThat(node.snapshot()).isEqualTo(pristine);
    assertThat(node.read("proc/sys/kernel/core_pattern")).isEqualTo("core\n");
    assertThat(node.read("proc/sys/kernel/panic")).isEqualTo("10\n");
  }

  @Provide
  Arbitrary<JsonNode> crRequests() {
    return config().list().ofMaxSize(4).map(SettingsFuzzTest::request);
  }

  @Provide
  Arbitrary<JsonNode> escalations() {
    Arbitrary<JsonNode> evil =
        Arbitraries.of(
            config("kernel.sysctl", null, "kernel.core_pattern", F.textNode("|/tmp/evil %p"), null),
            config("kernel.sysctl", null, "kernel/core_pattern", F.textNode("|/x"), ""),
            config("kernel.sysctl", null, "kernel.panic", F.numberNode(0), null),
            config("kernel.sysctl.persist", null, "kernel.modprobe", F.textNode("/tmp/x"), null),
            config("kernel.sysctl.persist", null, "-kernel.core_pattern", F.textNode("|/x"), null),
            config("kernel.sysctl.persist", null, "kernel.*", F.textNode("|/x"), null),
            config(
                "kernel.sysctl.persist",
                "/etc/profile.d/zz.sh",
                "vm.swappiness",
                F.numberNode(1),
                null),
            config(
                "pam.limits", "/etc/KubeOS/settings-policy.json", "*", F.textNode("a.b.c"), null),
            config("grub.cmdline.next", null, "panic", F.textNode("0x0"), null),
            config("grub.cmdline.current", null, "init", F.textNode("/bin/sh"), null),
            config(
                "kubernetes.kubelet", null, "authorization.mode", F.textNode("AlwaysAllow"), null),
            config(
                "kubernetes.kubelet",
                null,
                "authentication",
                F.objectNode().set("anonymous", F.objectNode().put("enabled", true)),
                null),
            config(
                "container.containerd",
                null,
                "plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options.BinaryName",
                F.textNode("/tmp/evil"),
                null),
            config(
                "grub.cmdline.current", null, "sysctl.kernel.core_pattern", F.textNode("|x"), ""));
    return Combinators.combine(
            config().list().ofMaxSize(3), evil, Arbitraries.integers().between(0, 3))
        .as(
            (before, bad, at) -> {
              List<JsonNode> all = new java.util.ArrayList<>(before);
              all.add(Math.min(at, all.size()), bad);
              return request(all);
            });
  }

  private static JsonNode request(List<JsonNode> configs) {
    ObjectNode r = F.objectNode();
    r.put("version", "fuzz");
    r.putArray("configs").addAll(configs);
    return r;
  }

  private static JsonNode config(
      String model, String path, String key, JsonNode value, String operation) {
    ObjectNode c = F.objectNode();
    c.put("model", model);
    if (path != null) {
      c.put("configpath", path);
    }
    ObjectNode e = c.putArray("contents").addObject();
    e.put("key", key);
    e.set("value", value);
    if (operation != null) {
      e.put("operation", operation);
    }
    return c;
  }

  private static Arbitrary<JsonNode> config() {
    Arbitrary<String> model =
        Arbitraries.oneOf(
            Arbitraries.of(
                "kernel.sysctl",
                "kernel.sysctl.persist",
                "grub.cmdline.current",
                "grub.cmdline.next",
                "kubernetes.kubelet",
                "container.containerd",
                "pam.limits"),
            Arbitraries.strings().ofMaxLength(12));
    Arbitrary<String> path =
        Arbitraries.oneOf(
                Arbitraries.of(
                    "",
                    "/etc/sysctl.conf",
                    "/etc/sysctl.d/90-x.conf",
                    "/etc/persist.conf",
                    "/etc/profile.d/zz.sh",
                    "/etc/../root/x",
                    "relative.conf",
                    "/etc/KubeOS/trust/policy.json",
                    "/var/lib/kubelet/config.yaml",
                    "/etc/containerd/config.toml",
                    "/etc/security/limits.conf",
                    "/etc/sysctl.d"),
                Arbitraries.strings().withChars("/etc.ab*-\u0000\n ").ofMaxLength(20))
            .injectNull(0.4);
    return Combinators.combine(model, path, content().list().ofMaxSize(4))
        .as(
            (m, p, contents) -> {
              ObjectNode c = F.objectNode();
              c.put("model", m);
              if (p != null) {
                c.put("configpath", p);
              }
              c.putArray("contents").addAll(contents);
              return (JsonNode) c;
            });
  }

  private static Arbitrary<JsonNode> content() {
    Arbitrary<String> key =
        Arbitraries.oneOf(
            Arbitraries.of(
                "",
                "net.ipv4.ip_forward",
                "vm.swappiness",
                "vm.dirty_ratio",
                "kernel.core_pattern",
                "kernel.panic",
                "net.ipv4.no_such_knob",
                "quiet",
                "console",
                "panic",
                "init",
                "kubeos.slot",
                "*",
                "@admin",
                "maxPods",
                "evictionHard.\"memory.available\"",
                "plugins.\"io.containerd.grpc.v1.cri\".sandbox_image",
                "a..b",
                "\"unterminated"),
            Arbitraries.strings().ofMaxLength(16));
    Arbitrary<JsonNode> value =
        Arbitraries.oneOf(
                Arbitraries.strings().ofMaxLength(12).map(t -> (JsonNode) F.textNode(t)),
                Arbitraries.of(
                        "0", "1", "", "soft.nofile.1024", "hard.core.0", "_._._", "ttyS0", "a b")
                    .map(t -> (JsonNode) F.textNode(t)),
                Arbitraries.integers().between(-5, 300000).map(i -> (JsonNode) F.numberNode(i)),
                Arbitraries.<JsonNode>of(
                    F.nullNode(),
                    F.booleanNode(true),
                    F.arrayNode().add("10.96.0.10"),
                    F.objectNode().put("x", 1),
                    F.objectNode().putNull("y")))
            .injectNull(0.1);
    Arbitrary<String> operation =
        Arbitraries.oneOf(
                Arbitraries.of("", "add", "update", "delete", "replace", "DELETE"),
                Arbitraries.strings().ofMaxLength(6))
            .injectNull(0.4);
    return Combinators.combine(key, value, operation)
        .as(
            (k, v, o) -> {
              ObjectNode e = F.objectNode();
              e.put("key", k);
              if (v != null) {
                e.set("value", v);
              }
              if (o != null) {
                e.put("operation", o);
              }
              return (JsonNode) e;
            });
  }
}
