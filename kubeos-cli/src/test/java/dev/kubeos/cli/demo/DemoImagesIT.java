package dev.kubeos.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kubeos.image.Images;
import dev.kubeos.image.plan.BuildPlan;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo's image config and job disks, with the real planner and the real mkfs.ext4. */
class DemoImagesIT {
  @TempDir Path dir;

  @Test
  void everyVersionPlansTheProbeAndSharesOneCachedRootfs() throws Exception {
    Path runtime = Files.createDirectories(dir.resolve("runtime"));
    Path cache = dir.resolve("cache");
    BuildPlan v1 =
        Images.plan(DemoImages.writeConfig(dir.resolve("v1"), "1.0.0", runtime), dir, cache);
    BuildPlan v2 =
        Images.plan(DemoImages.writeConfig(dir.resolve("v2"), "2.0.0", runtime), dir, cache);
    assertThat(v1.version()).isEqualTo("1.0.0");
    assertThat(v1.source().kind()).isEqualTo("debootstrap");
    assertThat(v1.profile()).isEqualTo("minimal");
    assertThat(v1.units()).contains("kubeos-agent.socket", "kubeos-probe.service");
    assertThat(v1.files())
        .anySatisfy(
            f -> {
              assertThat(f.target()).isEqualTo("/usr/local/sbin/kubeos-probe");
              assertThat(f.mode()).isEqualTo(0755);
              assertThat(Files.readString(f.source())).contains("PROBE-STATUS", "KUBEOS-JOB");
            });
    assertThat(v1.extraCmdline()).contains("console=ttyS0");
    assertThat(v1.agentRuntime()).isEqualTo(runtime.toAbsolutePath());
    assertThat(v2.cachedRootfs()).isEqualTo(v1.cachedRootfs()).startsWithRaw(cache);
    // raw: the default cache does not exist before the first build (endsWith would resolve it)
    assertThat(DemoImages.DEFAULT_CACHE_DIR).endsWithRaw(Path.of(".cache/kubeos/image"));
  }

  @Test
  void aJobDiskIsAnExt4LabelledKubeosJobWithTheScriptAndThePayload() throws Exception {
    Path payload = dir.resolve("payload-src.img");
    Files.write(payload, new byte[] {1, 2, 3, 4});
    Path disk = GuestJobs.disk(dir.resolve("jobs"), payload, List.of("echo one", "echo two"));
    assertThat(Host.run(List.of("blkid", "-o", "value", "-s", "LABEL", disk.toString())).strip())
        .isEqualTo("KUBEOS-JOB");
    assertThat(Host.run(List.of("debugfs", "-R", "cat /job.sh", disk.toString())))
        .contains("echo one\necho two\n");
    assertThat(Host.run(List.of("debugfs", "-R", "stat /payload.img", disk.toString())))
        .contains("Size: 4");
    assertThat(GuestJobs.stage("ab12", "2.0.0"))
        .isEqualTo(
            "kubeos agent stage --url file:///run/job/payload.img --sha256 ab12 --version 2.0.0"
                + " --format raw && echo 'PROBE-STAGED ok'");
  }

  /**
   * A runtime linked before jdk.crypto.ec joined the list is linked again, a current one is not.
   */
  @Test
  void aRuntimeIsCurrentOnlyWithEveryModuleOfTheList(@TempDir Path repo) throws Exception {
    Files.createDirectories(repo.resolve("scripts"));
    Files.writeString(
        repo.resolve("scripts/agent-runtime.modules"),
        "# comment\njava.base,java.net.http,jdk.crypto.ec\n");
    Path runtime = Files.createDirectories(repo.resolve("runtime"));
    assertThat(DemoImages.hasEveryModule(repo, runtime)).as("no release file").isFalse();
    Files.writeString(
        runtime.resolve("release"), "JAVA_VERSION=\"25\"\nMODULES=\"java.base java.net.http\"\n");
    assertThat(DemoImages.hasEveryModule(repo, runtime)).isFalse();
    Files.writeString(
        runtime.resolve("release"),
        "JAVA_VERSION=\"25\"\nMODULES=\"java.base java.logging java.net.http jdk.crypto.ec\"\n");
    assertThat(DemoImages.hasEveryModule(repo, runtime)).isTrue();
  }

  @Test
  void hostRunReportsAFailingCommandWithItsOutput() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> Host.run(List.of("ls", dir.resolve("missing").toString())))
        .hasMessageContaining("exit 2")
        .hasMessageContaining("missing");
  }
}
