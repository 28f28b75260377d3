package dev.kubeos.image;

import static dev.kubeos.image.TinyImage.debugfs;
import static dev.kubeos.image.TinyImage.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import dev.kubeos.agent.boot.BootEnv;
import dev.kubeos.agent.boot.FileBootEnvStore;
import dev.kubeos.agent.health.HealthConfig;
import dev.kubeos.agent.host.FreshDiskInit;
import dev.kubeos.agent.host.HostAgents;
import dev.kubeos.agent.settings.SettingsEngine;
import dev.kubeos.agent.settings.SettingsWriter;
import dev.kubeos.agent.settings.model.SettingsRequest;
import dev.kubeos.api.Json;
import dev.kubeos.api.agent.Slot;
import dev.kubeos.image.build.BuildResult;
import dev.kubeos.image.build.HostTools;
import dev.kubeos.image.build.ImageBuilder;
import dev.kubeos.image.build.OsCustomizer;
import dev.kubeos.image.plan.BuildPlan;
import dev.kubeos.image.plan.Planner;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real build of a tiny node tree (directory source, default profile, [kubernetes], extra health
 * checks): the node's files, enabled units, containerd config, health.json read by the agent's own
 * parser, the settings model editing the shipped containerd config, and PERSIST's /opt/cni.
 */
class NodeImageIT {
  @TempDir static Path dir;
  static BuildPlan plan;
  static BuildResult result;
  static Path tree;

  @BeforeAll
  static void build() throws Exception {
    Path config = TinyImage.nodeConfig(dir, "2.0.0");
    plan = Images.plan(config, dir.resolve("out"), dir.resolve("cache"));
    result =
        new ImageBuilder(
                HostTools.system(),
                e -> {},
                Clock.systemUTC(),
                new FreshDiskInit(Clock.systemUTC())::init)
            .build(plan);
    tree = Files.createDirectories(dir.resolve("extracted"));
    run("tar", "-xf", result.rootfsTar().toString(), "-C", tree.toString());
  }

  @Test
  void thePlanIsANodeWithTheKubelet() {
    assertThat(plan.profile()).isEqualTo("node");
    assertThat(plan.units()).containsAll(Planner.NODE_UNITS).contains("kubelet.service");
    assertThat(plan.describe())
        .contains("profile:    node -> a Kubernetes node: kubelet v1.30.4 (kubelet, kubeadm");
  }

  @Test
  void nodeUnitsAreEnabledAndTheBuildersOwnUnitsAreInstalled() throws Exception {
    Path etc = tree.resolve("etc/systemd/system");
    for (String u :
        List.of(
            "multi-user.target.wants/containerd.service",
            "multi-user.target.wants/systemd-networkd.service",
            "sockets.target.wants/systemd-networkd.socket",
            "sysinit.target.wants/systemd-resolved.service",
            "sysinit.target.wants/systemd-timesyncd.service",
            "sysinit.target.wants/apparmor.service",
            "sysinit.target.wants/kubeos-grow-persist.service",
            "sysinit.target.wants/kubeos-hostname.service",
            "multi-user.target.wants/kubeos-opt-cni.service",
            "multi-user.target.wants/kubelet.service",
            "sockets.target.wants/kubeos-agent.socket")) {
      assertThat(etc.resolve(u)).as(u).isSymbolicLink();
    }
    // socket-activated: the service itself is not started at boot
    assertThat(etc.resolve("multi-user.target.wants/kubeos-agent.service")).doesNotExist();
    assertThat(Files.readSymbolicLink(etc.resolve("multi-user.target.wants/kubelet.service")))
        .isEqualTo(Path.of("/usr/lib/systemd/system/kubelet.service"));
    for (String exe : List.of("grow-persist", "opt-cni", "set-hostname")) {
      assertThat(mode(tree.resolve("usr/lib/kubeos/" + exe))).isEqualTo("rwxr-xr-x");
    }
    assertThat(read("usr/lib/systemd/system/kubeos-grow-persist.service"))
        .contains("ExecStart=/usr/lib/kubeos/grow-persist", "Before=containerd.service");
  }

  @Test
  void nodePrerequisitesModulesSysctlsNetworkHostname() throws Exception {
    assertThat(read("usr/lib/modules-load.d/kubeos-node.conf").lines())
        .contains("overlay", "br_netfilter");
    assertThat(read("usr/lib/sysctl.d/90-kubeos-node.conf").lines())
        .contains("net.ipv4.ip_forward = 1", "net.bridge.bridge-nf-call-iptables = 1");
    assertThat(read("usr/lib/systemd/network/90-kubeos-dhcp.network"))
        .contains("Name=en* eth*", "DHCP=yes");
    assertThat(read("etc/hostname")).isEmpty();
    assertThat(read("etc/machine-id")).isEmpty();
    assertThat(tree.resolve("opt/cni")).isDirectory();
    assertThat(tree.resolve("usr/libexec/kubernetes/kubelet-plugins/volume/exec")).isDirectory();
    // PERSIST holds /opt/cni's content, bound at boot
    long persist = plan.disk().partition("PERSIST").offsetBytes();
    assertThat(debugfs(result.disk(), persist, "ls -l /opt/cni")).contains("bin");
  }

  @Test
  void theHostnameScriptNamesTheNodeFromItsMachineId() throws Exception {
    Path etc = Files.createDirectories(dir.resolve("fake-etc"));
    Files.writeString(etc.resolve("hostname"), "");
    Files.writeString(etc.resolve("machine-id"), "3f2a9c1de4b5467890abcdef12345678\n");
    String script = tree.resolve("usr/lib/kubeos/set-hostname").toString();
    assertThat(run("sh", script, etc.toString())).contains("kubeos-3f2a9c1d");
    assertThat(Files.readString(etc.resolve("hostname"))).isEqualTo("kubeos-3f2a9c1d\n");
    // a name that is set stays
    Files.writeString(etc.resolve("hostname"), "worker-7\n");
    run("sh", script, etc.toString());
    assertThat(Files.readString(etc.resolve("hostname"))).isEqualTo("worker-7\n");
  }

  @Test
  void theOptCniScriptLinksTheImagesPluginsAndKeepsInstalledOnes() throws Exception {
    Path persist = Files.createDirectories(dir.resolve("cni-persist"));
    Path opt = Files.createDirectories(dir.resolve("cni-opt"));
    Path installed = Files.createDirectories(persist.resolve("opt/cni/bin"));
    Files.writeString(installed.resolve("bridge"), "a CNI installer's own bridge");
    Files.writeString(installed.resolve("calico"), "calico");
    String script = tree.resolve("usr/lib/kubeos/opt-cni").toString();
    try {
      run("sh", script, persist.toString(), opt.toString(), tree.resolve("usr/lib/cni").toString());
      assertThat(Files.readString(opt.resolve("bin/bridge")))
          .isEqualTo("a CNI installer's own bridge");
      assertThat(Files.readSymbolicLink(opt.resolve("bin/loopback")))
          .isEqualTo(tree.resolve("usr/lib/cni/loopback"));
      assertThat(opt.resolve("bin/calico")).hasContent("calico");
      // what lands in /opt/cni is on PERSIST
      assertThat(installed.resolve("loopback")).isSymbolicLink();
    } finally {
      new ProcessBuilder("umount", opt.toString()).inheritIO().start().waitFor();
    }
  }

  @Test
  void containerdUsesSystemdCgroupsAndPersistentPaths() throws Exception {
    JsonNode c = new TomlMapper().readTree(read("etc/containerd/config.toml"));
    JsonNode cri = c.path("plugins").path("io.containerd.grpc.v1.cri");
    assertThat(
            cri.path("containerd")
                .path("runtimes")
                .path("runc")
                .path("options")
                .path("SystemdCgroup")
                .asBoolean())
        .isTrue();
    assertThat(cri.path("cni").path("bin_dir").asText()).isEqualTo("/opt/cni/bin");
    assertThat(c.path("root").asText()).isEqualTo("/var/lib/containerd");
    assertThat(c.path("plugins").path("io.containerd.internal.v1.opt").path("path").asText())
        .startsWith("/var/");
  }

  @Test
  void theContainerdSettingsModelEditsTheShippedConfig() throws Exception {
    Path boot = Files.createDirectories(dir.resolve("boot"));
    BootEnv env = new BootEnv(new FileBootEnvStore(boot));
    env.initialize(Slot.A);
    // a copy of the node's /etc: the other tests read the image's own files
    Path node = dir.resolve("settings-root");
    for (String f : List.of("etc/containerd/config.toml", "etc/KubeOS/settings-policy.json")) {
      Files.createDirectories(node.resolve(f).getParent());
      Files.copy(tree.resolve(f), node.resolve(f));
    }
    SettingsEngine engine =
        new SettingsEngine(
            node,
            Files.createDirectories(dir.resolve("settings-state")),
            env,
            Slot.A,
            SettingsWriter.ATOMIC,
            Clock.systemUTC());
    String before = read("etc/containerd/config.toml");
    JsonNode req =
        Json.mapper()
            .readTree(
                ("{'version': 'v1', 'configs': [{'model': 'container.containerd', 'contents': ["
                        + "{'key': 'plugins.\\'io.containerd.grpc.v1.cri\\'.sandbox_image',"
                        + " 'value': 'registry.k8s.io/pause:3.10'},"
                        + "{'key': 'plugins.\\'io.containerd.grpc.v1.cri\\'.containerd.runtimes"
                        + ".runc.options.SystemdCgroup', 'value': false}]}]}")
                    .replace('\'', '"'));
    assertThat(engine.apply(SettingsRequest.fromCr(req), false).changed()).isTrue();
    String after = Files.readString(node.resolve("etc/containerd/config.toml"));
    assertThat(after)
        .contains("sandbox_image = \"registry.k8s.io/pause:3.10\"")
        .contains("SystemdCgroup = false")
        .contains("bin_dir = \"/opt/cni/bin\"");
    // every other line (comments included) is kept
    assertThat(after.lines().count()).isEqualTo(before.lines().count());
  }

  @Test
  void healthJsonIsReadByTheAgentsParser() throws Exception {
    HealthConfig h = HostAgents.loadHealthConfig(tree.resolve("etc/KubeOS/health.json"));
    assertThat(h.deadline()).isEqualTo(Duration.ofSeconds(240));
    // a trial commits at most a second after its slowest check's condition holds
    assertThat(h.interval()).isEqualTo(Duration.ofSeconds(1));
    assertThat(h.checks())
        .containsExactly(
            new HealthConfig.Unit("kubeos-agent.socket", 120, null),
            new HealthConfig.Unit("containerd.service", 180, null),
            new HealthConfig.Unit("kubelet.service", 240, "/etc/kubernetes/kubelet.conf"),
            new HealthConfig.Http(
                URI.create("http://127.0.0.1:10248/healthz"), 240, "/etc/kubernetes/kubelet.conf"),
            new HealthConfig.Http(URI.create("http://127.0.0.1:8080/ready"), 60, null),
            new HealthConfig.Command(List.of("/usr/bin/test", "-d", "/var/lib"), 240, null));
  }

  @Test
  void theKubeletWithKubeadmsDropInAndTheBinaries() throws Exception {
    assertThat(read("usr/bin/kubelet")).contains("kubelet v1.30.4");
    assertThat(mode(tree.resolve("usr/bin/kubeadm"))).isEqualTo("rwxr-xr-x");
    assertThat(read("usr/lib/kubeos/kubernetes-version")).isEqualTo("v1.30.4\n");
    assertThat(read("usr/lib/systemd/system/kubelet.service"))
        .contains(
            "ConditionPathExists=/var/lib/kubelet/config.yaml",
            "After=network-online.target containerd.service");
    assertThat(read("usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf"))
        .contains(
            "--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf"
                + " --kubeconfig=/etc/kubernetes/kubelet.conf",
            "EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env",
            "ExecStart=\n",
            "$KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS");
  }

  @Test
  void theNodesKubeosCommandRunsTheRuntimeWithTheAgentsFlags() throws Exception {
    Path cmd = tree.resolve(OsCustomizer.NODE_COMMAND);
    assertThat(mode(cmd)).isEqualTo("rwxr-xr-x");
    String script = Files.readString(cmd);
    String unit;
    try (InputStream in =
        OsCustomizer.class.getResourceAsStream("/dev/kubeos/image/systemd/kubeos-agent.service")) {
      unit = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    List<String> flags = OsCustomizer.nodeCommandFlags(unit);
    assertThat(flags).contains("-XX:+UseSerialGC").anyMatch(f -> f.startsWith("-Xmx"));
    assertThat(flags)
        .noneMatch(f -> f.contains("SharedArchiveFile") || f.contains("AutoCreateSharedArchive"))
        .noneMatch(f -> f.startsWith("-XX:TieredStopAtLevel"));
    assertThat(script)
        .contains(
            "exec /usr/lib/kubeos/runtime/bin/java "
                + String.join(" ", flags)
                + " $jit -jar /usr/lib/kubeos/runtime/kubeos.jar \"$@\"");
    // the wrapper passes its arguments through to the runtime it names, with the tiered JIT
    // (C2's SHA-256 intrinsics) for the commands that hash and C1 only for the quick ones
    Path fakeRoot = dir.resolve("wrapper-check");
    Path java = fakeRoot.resolve("usr/lib/kubeos/runtime/bin/java");
    Files.createDirectories(java.getParent());
    Files.writeString(java, "#!/bin/sh\necho \"$@\"\n");
    Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
    String local = script.replace("/usr/lib/kubeos/runtime", fakeRoot + "/usr/lib/kubeos/runtime");
    Path wrapper = Files.writeString(dir.resolve("kubeos-wrapper"), local);
    String jar = " -jar " + fakeRoot + "/usr/lib/kubeos/runtime/kubeos.jar ";
    String unitFlags = String.join(" ", flags);
    assertThat(run("sh", wrapper.toString(), "agent", "status", "--json").strip())
        .isEqualTo(unitFlags + " -XX:TieredStopAtLevel=1" + jar + "agent status --json");
    assertThat(
            run(
                    "sh",
                    wrapper.toString(),
                    "agent",
                    "stage",
                    "--url",
                    "http://127.0.0.1/p.img",
                    "--sha256",
                    "ab",
                    "--version",
                    "2")
                .strip())
        .isEqualTo(
            unitFlags + jar + "agent stage --url http://127.0.0.1/p.img --sha256 ab --version 2");
    assertThat(run("sh", wrapper.toString(), "agent", "--disk", "/dev/vda", "serve").strip())
        .isEqualTo(unitFlags + jar + "agent --disk /dev/vda serve");
    assertThat(run("sh", wrapper.toString(), "agent", "stage", "--help").strip())
        .isEqualTo(unitFlags + " -XX:TieredStopAtLevel=1" + jar + "agent stage --help");
    // an argument with a space stays one argument
    Files.writeString(java, "#!/bin/sh\nfor a in \"$@\"; do echo \"[$a]\"; done\n");
    assertThat(run("sh", wrapper.toString(), "agent", "configure", "--file", "a b.json"))
        .contains("[a b.json]");
  }

  private static String read(String path) throws Exception {
    return Files.readString(tree.resolve(path));
  }

  private static String mode(Path p) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }
}
