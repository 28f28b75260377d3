package dev.kubeos.cluster.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kubeos.agent.Agent;
import dev.kubeos.agent.AgentService;
import dev.kubeos.agent.boot.FileBootEnvStore;
import dev.kubeos.agent.host.AgentOptions;
import dev.kubeos.agent.host.HostAgents;
import dev.kubeos.agent.model.BootDecision;
import dev.kubeos.agent.model.BootSelector;
import dev.kubeos.api.agent.Action;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.AgentMethods;
import dev.kubeos.api.agent.AgentStatus;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.api.agent.Slot;
import dev.kubeos.api.agent.SlotState;
import dev.kubeos.cluster.proxy.model.CommitCheck;
import dev.kubeos.crd.Content;
import dev.kubeos.crd.OS;
import dev.kubeos.crd.OSSpec;
import dev.kubeos.crd.OpsType;
import dev.kubeos.crd.SysConfig;
import dev.kubeos.crd.SysConfigs;
import dev.kubeos.formats.boot.GrubEnvBlock;
import dev.kubeos.rpc.JsonRpcClient;
import dev.kubeos.rpc.JsonRpcServer;
import dev.kubeos.rpc.RpcDispatcher;
import dev.kubeos.testing.PayloadServer;
import dev.kubeos.testing.TestDisks;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.InputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The contract between the proxy and the agent, through the real bytes: the proxy's request mapping
 * ({@link AgentRequests}) and client ({@link SocketAgentClient}) over a real Unix socket to the
 * agent's {@link JsonRpcServer}, {@link RpcDispatcher} and {@link AgentService}, in front of a real
 * {@link Agent} on a file-backed GPT disk image, an ESP directory and a settings root of temp
 * files. The node's reboot is simulated: GRUB's slot selection over the ESP's env blocks, then a
 * new agent process on the same disk and state.
 */
class ProxyAgentContractIT {
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;
  Path disk;
  Path esp;
  Path stateDir;
  Path root;
  Path socket;
  PayloadServer payloads;
  JsonRpcServer server;
  final List<String> reboots = new CopyOnWriteArrayList<>();
  final byte[] v2 = random(3 << 20);

  @BeforeEach
  void node() throws IOException {
    disk = TestDisks.create(dir.resolve("disk.img"), 2, 32, 8);
    esp = dir.resolve("esp");
    stateDir = dir.resolve("state");
    root = dir.resolve("root");
    Files.createDirectories(root.resolve("etc/security"));
    Files.createDirectories(root.resolve("etc/containerd"));
    Files.createDirectories(root.resolve("var/lib/kubelet"));
    Files.writeString(root.resolve("etc/security/limits.conf"), "# limits\n");
    Files.writeString(root.resolve("etc/containerd/config.toml"), "version = 2\n");
    Files.writeString(root.resolve("var/lib/kubelet/config.yaml"), "kind: KubeletConfiguration\n");
    socket = dir.resolve("run/os-agent.sock");
    payloads = PayloadServer.http().serve("/v2.img", v2);
    boot(Slot.A).init("KubeOS 1.0.0", null);
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
    payloads.close();
  }

  /** Starts an agent process that was booted from {@code slot}, serving on the socket. */
  Agent boot(Slot slot) throws IOException {
    if (server != null) {
      server.close();
    }
    Agent agent =
        HostAgents.forSettings(
            new AgentOptions(disk, esp, stateDir, slot, null, null), Clock.systemUTC(), root);
    server =
        new JsonRpcServer(
            socket,
            new RpcDispatcher(
                new AgentService(agent, reboots::add, dir.resolve("certs"), Duration.ZERO)));
    server.start();
    return agent;
  }

  /** What GRUB does at power-on: pick the slot from the env blocks, consuming a trial. */
  Slot powerCycle() throws IOException {
    FileBootEnvStore store = new FileBootEnvStore(esp);
    BootDecision d =
        BootSelector.select(store.readCopy(0), store.readCopy(1), store.readBootRecord());
    if (d.trial()) {
      store.writeBootRecord(
          GrubEnvBlock.encode(Map.of("kubeos_tried", Long.toString(d.consumedTrialId()))));
    }
    return d.slot();
  }

  SocketAgentClient proxy() {
    return new SocketAgentClient(new JsonRpcClient(socket, Duration.ofSeconds(60)));
  }

  /** The agent's status as the proxy reads it ({@link SocketAgentClient#status()}). */
  AgentStatus status() {
    return proxy().status();
  }

  OSSpec upgradeTo(String version, String sum) {
    OSSpec spec = new OSSpec();
    spec.setOpstype(OpsType.UPGRADE);
    spec.setOsversion(version);
    spec.setImagetype("raw");
    spec.setImageurl(payloads.url("/v2.img").toString());
    spec.setChecksum(sum);
    spec.setFlagSafe(true);
    spec.setMaxunavailable(1);
    return spec;
  }

  @Test
  void prepareUpgradeUpgradeRebootStatusThenRollback() throws IOException {
    proxy().prepareUpgrade(AgentRequests.upgrade(upgradeTo("KubeOS 2.0.0", sha256(v2))));
    AgentStatus staged = status();
    assertThat(staged.slots().get(Slot.B).state()).isEqualTo(SlotState.VERIFIED);
    assertThat(staged.slots().get(Slot.B).version()).isEqualTo("KubeOS 2.0.0");

    proxy().upgrade();
    await().atMost(Duration.ofMinutes(1)).until(() -> reboots.size() == 1);
    assertThat(status().nextBootSlot()).isEqualTo(Slot.B);

    Slot booted = powerCycle();
    assertThat(booted).isEqualTo(Slot.B);
    boot(booted);
    AgentStatus trial = status();
    assertThat(trial.bootedSlot()).isEqualTo(Slot.B);
    assertThat(trial.trialBoot()).isTrue();
    // the proxy's Verifying on the trial boot: the kubelet may report v2 already, not committed yet
    assertThat(CommitCheck.of(trial, "KubeOS 2.0.0").verdict())
        .isEqualTo(CommitCheck.Verdict.NOT_COMMITTED);
    new JsonRpcClient(socket, Duration.ofSeconds(30)).call(AgentMethods.COMMIT);
    // as a proxy restarted by the reboot asks it: status is its client's first call
    AgentStatus committed = SocketAgentClient.lazy(socket, Duration.ofSeconds(60)).status();
    assertThat(committed.defaultSlot()).isEqualTo(Slot.B);
    assertThat(CommitCheck.of(committed, "KubeOS 2.0.0").verdict())
        .isEqualTo(CommitCheck.Verdict.COMMITTED);

    proxy().rollback();
    await().atMost(Duration.ofMinutes(1)).until(() -> reboots.size() == 2);
    assertThat(status().nextBootSlot()).isEqualTo(Slot.A);
    assertThat(powerCycle()).isEqualTo(Slot.A);
    boot(Slot.A);
    assertThat(CommitCheck.of(status(), "KubeOS 1.0.0").verdict())
        .as("a rollback needs no commit: the default entry is the booted slot")
        .isEqualTo(CommitCheck.Verdict.COMMITTED);
  }

  /**
   * Upstream's settings appendix (kubelet, containerd, pam.limits) applies on the node's files;
   * turning the kubelet's authorization off ({@code authorization.mode}) is refused whole by the
   * node's default settings policy, as a typed error, and changes nothing.
   */
  @Test
  void configureCarriesUpstreamsAppendixExampleOntoTheNodesFiles() throws IOException {
    OSSpec spec = example("config-appendix-models.yaml");
    SysConfig kubelet =
        spec.getSysconfigs().getConfigs().stream()
            .filter(c -> c.getModel().equals("kubernetes.kubelet"))
            .findFirst()
            .orElseThrow();
    kubelet.getContents().add(new Content("authorization.mode", "AlwaysAllow", null));
    assertThatThrownBy(() -> proxy().configure(AgentRequests.configure(spec.getSysconfigs())))
        .isInstanceOfSatisfying(
            AgentException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.POLICY_DENIED);
              assertThat(e.code().action()).isEqualTo(Action.ROLL_BACK);
            })
        .hasMessageContaining("authorization.mode");
    assertThat(Files.readString(root.resolve("etc/security/limits.conf"))).isEqualTo("# limits\n");

    kubelet.getContents().removeIf(c -> c.getKey().equals("authorization.mode"));
    proxy().configure(AgentRequests.configure(spec.getSysconfigs()));
    assertThat(Files.readString(root.resolve("var/lib/kubelet/config.yaml")))
        .contains("cacheAuthorizedTTL: 1s");
    assertThat(Files.readString(root.resolve("etc/security/limits.conf")))
        .containsPattern("ftp\\s+soft\\s+core\\s+0");
    assertThat(Files.readString(root.resolve("etc/containerd/config.toml")))
        .contains("no_shim = true");
  }

  /**
   * Every upstream example's settings (upgradeconfigs, then sysconfigs), carried by the proxy to
   * the real agent. One of upstream's documented entries is refused whole, on purpose: {@code
   * root=} on the kernel command line (the boot contract owns it).
   */
  @Test
  void everyUpstreamExamplesSettingsGetAnAnswer() throws IOException {
    Map<String, String> outcome = new TreeMap<>();
    try (Stream<Path> files = Files.list(EXAMPLES)) {
      for (Path f : files.sorted().toList()) {
        OSSpec spec = example(f.getFileName().toString());
        kernelHas(spec.getUpgradeconfigs());
        kernelHas(spec.getSysconfigs());
        for (SysConfigs s : Arrays.asList(spec.getUpgradeconfigs(), spec.getSysconfigs())) {
          if (!AgentRequests.hasConfigs(s)) {
            continue;
          }
          try {
            proxy().configure(AgentRequests.configure(s));
            outcome.merge(f.getFileName().toString(), "Configured", (a, b) -> a + "," + b);
          } catch (AgentException e) {
            outcome.merge(f.getFileName().toString(), e.code().name(), (a, b) -> a + "," + b);
            assertThat(e.getMessage()).contains("boot contract");
          }
        }
      }
    }
    assertThat(outcome)
        .containsEntry("config-appendix-models.yaml", "Configured")
        .containsEntry("config-settings-guide.yaml", "INVALID_REQUEST")
        .containsEntry("config.yaml", "Configured")
        .containsEntry("config-kubelet-containerd-pam.yaml", "Configured")
        .containsEntry("rollback-config-version.yaml", "Configured")
        .containsEntry("sample-upgrade_v1alpha1_os.yaml", "Configured,Configured")
        .containsEntry("upgrade-containerd-with-configs.yaml", "Configured,Configured")
        .containsEntry("upgrade-with-configs-empty-key.yaml", "Configured,Configured")
        .hasSize(8);
  }

  /** The node's kernel knows the parameters the resource sets: their files under proc/sys. */
  void kernelHas(SysConfigs s) throws IOException {
    if (!AgentRequests.hasConfigs(s)) {
      return;
    }
    for (SysConfig c : s.getConfigs()) {
      if ("kernel.sysctl".equals(c.getModel())) {
        for (Content k : c.getContents()) {
          Path p = root.resolve("proc/sys").resolve(k.getKey().replace('.', '/'));
          Files.createDirectories(p.getParent());
          if (!Files.exists(p)) {
            Files.writeString(p, "0\n");
          }
        }
      }
    }
  }

  @Test
  void typedErrorsCrossTheWire() {
    assertThatThrownBy(
            () ->
                proxy()
                    .prepareUpgrade(
                        AgentRequests.upgrade(upgradeTo("KubeOS 2.0.0", "00".repeat(32)))))
        .isInstanceOfSatisfying(
            AgentException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.CHECKSUM_MISMATCH);
              assertThat(e.code().action()).isEqualTo(Action.ROLL_BACK);
            });
    assertThatThrownBy(() -> proxy().upgrade())
        .isInstanceOfSatisfying(
            AgentException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.PRECONDITION_FAILED));
    OSSpec docker = upgradeTo("KubeOS 2.0.0", sha256(v2));
    docker.setImagetype("docker");
    docker.setImageurl(null);
    assertThatThrownBy(() -> proxy().prepareUpgrade(AgentRequests.upgrade(docker)))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST))
        .hasMessageContaining("container_image");
    assertThat(reboots).isEmpty();
  }

  /**
   * Upstream's Rust proxy ({@code jsonrpc} 0.13, simple_uds): one connection, one bare JSON object
   * with members in its order and no newline, the connection left open for the answer.
   */
  @Test
  void answersTheExactBytesUpstreamsProxySends() throws IOException {
    String request =
        "{\"method\":\"configure\",\"params\":[{\"configs\":[{\"model\":\"pam.limits\","
            + "\"config_path\":\"\",\"contents\":{\"ftp\":{\"value\":\"soft.core.0\","
            + "\"operation\":\"\"}}}]}],\"id\":0,\"jsonrpc\":\"2.0\"}";
    JsonNode answer = exchange(request);
    assertThat(answer.path("jsonrpc").asText()).isEqualTo("2.0");
    assertThat(answer.path("id").asLong()).isZero();
    assertThat(answer.path("result").path("status").asText()).isEqualTo("Configured");
    assertThat(Files.readString(root.resolve("etc/security/limits.conf")))
        .containsPattern("ftp\\s+soft\\s+core\\s+0");

    JsonNode refused =
        exchange("{\"method\":\"upgrade\",\"params\":[],\"id\":1,\"jsonrpc\":\"2.0\"}");
    assertThat(refused.path("id").asLong()).isEqualTo(1);
    assertThat(refused.path("error").path("code").asInt())
        .isEqualTo(ErrorCode.PRECONDITION_FAILED.rpcCode());
  }

  private JsonNode exchange(String request) throws IOException {
    try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
      ByteBuffer out = ByteBuffer.wrap(request.getBytes(StandardCharsets.UTF_8));
      while (out.hasRemaining()) {
        ch.write(out);
      }
      // no shutdownOutput: upstream's client keeps its side open and parses the answer
      InputStream in = Channels.newInputStream(ch);
      return JSON.readerFor(JsonNode.class).<JsonNode>readValues(in).next();
    }
  }

  static final Path EXAMPLES =
      Path.of("..", "kubeos-cluster", "src", "test", "resources", "upstream-examples");

  static OSSpec example(String file) throws IOException {
    Path path = EXAMPLES.resolve(file);
    try (InputStream in = Files.newInputStream(path)) {
      return new KubernetesSerialization().unmarshal(in, OS.class).getSpec();
    }
  }

  static byte[] random(int size) {
    byte[] b = new byte[size];
    new Random(21).nextBytes(b);
    return b;
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
