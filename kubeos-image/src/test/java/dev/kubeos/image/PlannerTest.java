package dev.kubeos.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.image.config.ImageConfig;
import dev.kubeos.image.plan.BuildPlan;
import dev.kubeos.image.plan.DiskGeometry;
import dev.kubeos.image.plan.Planner;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Config to plan: defaults, checks, and the golden plan of the sample config. */
class PlannerTest {
  static final Path DIR = Path.of("/srv/kubeos");

  static String resource(String name) throws IOException {
    try (InputStream in = PlannerTest.class.getResourceAsStream(name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  static BuildPlan plan(String toml) {
    return Planner.plan(
        ImageConfig.parse(toml, "test.toml"), DIR, DIR.resolve("out"), DIR.resolve("cache"), "k");
  }

  @Test
  void sampleConfigGivesTheGoldenPlan() throws IOException {
    BuildPlan plan = plan(resource("sample.toml"));
    assertThat(plan.describe()).isEqualTo(resource("sample-plan.txt"));
    // deterministic: the same config plans the same build
    assertThat(plan(resource("sample.toml"))).isEqualTo(plan);
  }

  @Test
  void defaultsAreABookwormNodeWithContainerdAndNoKubelet() {
    BuildPlan plan = plan("version = \"1\"\n[agent]\nruntime = \"rt\"\n");
    assertThat(plan.profile()).isEqualTo("node");
    assertThat(plan.source().describe())
        .startsWith(
            "debootstrap --variant=minbase bookworm http://deb.debian.org/debian + packages"
                + " linux-image-amd64 systemd-sysv udev initramfs-tools e2fsprogs dbus")
        .contains(
            " containerd runc containernetworking-plugins ",
            " iproute2 iptables conntrack ethtool socat apparmor systemd-timesyncd");
    assertThat(plan.units())
        .startsWith("kubeos-agent.socket", "kubeos-health.service")
        .contains(
            "containerd.service",
            "systemd-networkd.service",
            "systemd-timesyncd.service",
            "apparmor.service",
            "kubeos-grow-persist.service",
            "kubeos-opt-cni.service")
        .doesNotContain("kubelet.service");
    assertThat(plan.disk().partitions())
        .extracting(DiskGeometry.Partition::name, p -> p.sizeBytes() >> 20)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("ESP", 64L),
            org.assertj.core.groups.Tuple.tuple("ROOT-A", 2048L),
            org.assertj.core.groups.Tuple.tuple("ROOT-B", 2048L),
            org.assertj.core.groups.Tuple.tuple("PERSIST", 1024L));
    assertThat(plan.steps()).doesNotContain("qcow2").startsWith("check-host", "rootfs");
    assertThat(plan.agentRuntime()).isEqualTo(DIR.resolve("rt"));
    // without [kubernetes] the plan says what the image is
    assertThat(plan.describe())
        .contains("profile:    node -> a container host (containerd, runc, CNI plugins")
        .contains("no kubelet: add a [kubernetes] section to make it a Kubernetes node")
        .contains("check:    unit containerd.service within 180 s")
        .contains(
            "check:    unit kubelet.service within 300 s (only once"
                + " /etc/kubernetes/kubelet.conf exists)");
  }

  @Test
  void theMinimalProfileIsTheOldSmallImage() {
    BuildPlan plan = plan("version = \"1\"\nprofile = \"minimal\"\n[agent]\nruntime = \"rt\"\n");
    assertThat(plan.source().packages()).isEqualTo(Planner.MINIMAL_PACKAGES);
    assertThat(plan.units()).containsExactlyElementsOf(Planner.AGENT_ENABLED);
    assertThat(plan.health().checks()).isEmpty();
    assertThat(plan.disk().partition("ROOT-A").sizeBytes() >> 20).isEqualTo(1024);
    assertThat(plan.disk().partition("PERSIST").sizeBytes() >> 20).isEqualTo(512);
    assertThat(plan.describe())
        .contains("profile:    minimal (kernel, systemd and the agent; no container runtime)")
        .doesNotContain("health:");
    // extra packages go on top of the profile's set
    BuildPlan extra =
        plan(
            "version = \"1\"\nprofile = \"minimal\"\n[distribution]\nextra_packages ="
                + " [\"openssh-server\"]\n[agent]\nruntime = \"rt\"\n");
    assertThat(extra.source().packages()).endsWith("e2fsprogs", "openssh-server");
  }

  @Test
  void kubernetesAndHealthChecksAreCheckedAndPlanned() {
    String base = "version = \"1\"\n[agent]\nruntime = \"rt\"\n";
    BuildPlan p =
        plan(
            base
                + "[kubernetes]\nversion = \"1.30.4\"\nkubelet = \"bin/kubelet\"\n"
                + "[[health.checks]]\ntype = \"command\"\nargv = [\"/bin/true\"]\n"
                + "deadline_seconds = 30\nonly_if_exists = \"/etc/ready\"\n");
    assertThat(p.kubernetes().version()).isEqualTo("v1.30.4");
    assertThat(p.kubernetes().binaries()).containsOnlyKeys("kubelet");
    assertThat(p.units()).endsWith("kubelet.service");
    assertThat(p.health().checks()).hasSize(5);
    assertThat(p.describe())
        .contains("a Kubernetes node: kubelet v1.30.4 (kubelet -> /usr/bin)")
        .contains("check:    /bin/true within 30 s (only once /etc/ready exists)");
    for (String[] bad :
        new String[][] {
          {"profile = \"tiny\"\n", "profile 'tiny' is not known"},
          {
            "profile = \"minimal\"\n[kubernetes]\nversion = \"1.30.4\"\nkubelet = \"k\"\n",
            "[kubernetes] needs the node profile"
          },
          {"[kubernetes]\nversion = \"latest\"\nkubelet = \"k\"\n", "is not a Kubernetes version"},
          {"[kubernetes]\nversion = \"1.30.4\"\n", "kubernetes.kubelet"},
          {"[[health.checks]]\ntype = \"ping\"\n", "is not http, command or systemd-unit"},
          {"[[health.checks]]\ntype = \"command\"\nargv = [\"true\"]\n", "absolute path"},
          {"[[health.checks]]\ntype = \"http\"\nurl = \"ftp://x\"\n", "must be http(s)"},
          {
            "[health]\ndeadline_seconds = 60\n[[health.checks]]\ntype = \"systemd-unit\"\n"
                + "unit = \"a.service\"\ndeadline_seconds = 61\n",
            "1..60"
          }
        }) {
      String toml =
          bad[0].startsWith("profile")
              ? base.replace("[agent]", bad[0] + "[agent]")
              : base + bad[0];
      assertThatThrownBy(() -> plan(toml))
          .as(bad[0])
          .isInstanceOf(AgentException.class)
          .hasMessageContaining(bad[1]);
    }
  }

  @Test
  void cacheKeyFollowsSourceAndPackagesOnly() {
    String base = "version = \"1\"\n[agent]\nruntime = \"rt\"\n";
    String other = base.replace("\"1\"", "\"2\"") + "[kernel]\ncmdline = \"quiet\"\n";
    String morePackages = base + "[distribution]\npackages = [\"linux-image-amd64\", \"vim\"]\n";
    assertThat(plan(other).cacheKey()).isEqualTo(plan(base).cacheKey());
    assertThat(plan(morePackages).cacheKey()).isNotEqualTo(plan(base).cacheKey());
    BuildPlan p = plan(base);
    assertThat(Planner.plan(ImageConfig.parse(base, "t"), DIR, DIR, DIR, "changed").cacheKey())
        .isNotEqualTo(p.cacheKey());
  }

  @Test
  void trustKeysArePlannedAndAPolicyThatCouldNotWorkIsRefused() {
    String ok = "version = \"1\"\n[agent]\nruntime = \"rt\"\n";
    assertThat(plan(ok).trust()).isEqualTo(BuildPlan.TrustSpec.NONE);
    assertThat(plan(ok).describe()).doesNotContain("trust:");
    BuildPlan p = plan(ok + "[trust]\nkeys = [\"k/a.pub\", \"b.pub\"]\n");
    assertThat(p.trust().keys()).containsExactly(DIR.resolve("k/a.pub"), DIR.resolve("b.pub"));
    assertThat(p.trust().policy().toJson()).contains("\"require_signatures\" : false");
    assertThat(p.describe()).contains("signatures checked, not required");
    assertRefused(ok + "[trust]\nrequire_signatures = true\n", "no key is trusted");
    assertRefused(ok + "[trust]\nkeys = [\"a/r.pub\", \"b/r.pub\"]\n", "listed twice");
    assertRefused(ok + "[trust]\nkeys = [\"release.key\"]\n", "like release.pub");
    assertRefused(ok + "[trust]\nrequire_signature = true\n", "require_signature");
  }

  @Test
  void badValuesAreRefusedWithTheKeyNamed() {
    String ok = "version = \"1\"\n[agent]\nruntime = \"rt\"\n";
    assertRefused(ok.replace("\"1\"", "\"1 0\""), "version");
    assertRefused(ok + "[kernel]\ncmdline = \"panic=0\"\n", "panic=");
    assertRefused(ok + "[partitions]\nroot_mib = 2\n", "root_mib");
    assertRefused(ok + "[systemd]\nenable = [\"../x\"]\n", "unit");
    assertRefused(ok + "[[files]]\nsource = \"a\"\ntarget = \"/etc/../x\"\n", "files.target");
    assertRefused(ok + "[distribution]\nsource = \"dnf\"\n", "debootstrap or directory");
    assertRefused(ok + "[distribution]\nsource = \"directory\"\n", "distribution.path");
    assertRefused("version = \"1\"\n", "agent.runtime");
    assertRefused(ok + "[partitions]\nroot_size = 5\n", "root_size");
  }

  private static void assertRefused(String toml, String mention) {
    assertThatThrownBy(() -> plan(toml))
        .isInstanceOf(AgentException.class)
        .hasMessageContaining(mention)
        .satisfies(
            e -> assertThat(((AgentException) e).code()).isEqualTo(ErrorCode.INVALID_REQUEST));
  }
}
