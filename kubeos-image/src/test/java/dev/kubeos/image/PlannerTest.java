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
  void defaultsAreDebianBookwormWithKernelAndSystemd() {
    BuildPlan plan = plan("version = \"1\"\n[agent]\nruntime = \"rt\"\n");
    assertThat(plan.source().describe())
        .isEqualTo(
            "debootstrap --variant=minbase bookworm http://deb.debian.org/debian + packages"
                + " linux-image-amd64 systemd-sysv udev initramfs-tools e2fsprogs");
    assertThat(plan.units()).containsExactly("kubeos-agent.socket", "kubeos-health.service");
    assertThat(plan.disk().partitions())
        .extracting(DiskGeometry.Partition::name, p -> p.sizeBytes() >> 20)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("ESP", 64L),
            org.assertj.core.groups.Tuple.tuple("ROOT-A", 1024L),
            org.assertj.core.groups.Tuple.tuple("ROOT-B", 1024L),
            org.assertj.core.groups.Tuple.tuple("PERSIST", 512L));
    assertThat(plan.steps()).doesNotContain("qcow2").startsWith("check-host", "rootfs");
    assertThat(plan.agentRuntime()).isEqualTo(DIR.resolve("rt"));
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
