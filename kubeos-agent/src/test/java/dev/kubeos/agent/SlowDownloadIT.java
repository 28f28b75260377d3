package dev.kubeos.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.agent.host.AgentOptions;
import dev.kubeos.agent.host.FileOperationLock;
import dev.kubeos.agent.host.HostAgents;
import dev.kubeos.agent.port.OperationLock;
import dev.kubeos.agent.stage.ProgressListener;
import dev.kubeos.api.agent.Action;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.api.agent.Slot;
import dev.kubeos.api.agent.SlotState;
import dev.kubeos.oci.source.DownloadLimits;
import dev.kubeos.oci.source.FetchOptions;
import dev.kubeos.testing.PayloadServer;
import dev.kubeos.testing.TestDisks;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A payload server that drips its bytes far under the configured minimum rate: the stage fails with
 * the retryable DOWNLOAD_TOO_SLOW, the operation lock is free again (another holder takes it) and
 * the same agent then stages from a fast server. The rate is a configured limit, so the test waits
 * for no clock: a slower machine only makes the drip slower still.
 */
class SlowDownloadIT {
  @TempDir Path dir;
  Path disk;
  Path stateDir;
  PayloadServer server;
  byte[] v2;

  @BeforeEach
  void node() throws IOException {
    disk = TestDisks.create(dir.resolve("disk.img"), 2, 32, 8);
    Path tree = dir.resolve("tree");
    Files.createDirectories(tree.resolve("etc"));
    Files.writeString(tree.resolve("etc/os-release"), "PRETTY_NAME=\"KubeOS v1\"\n");
    TestDisks.mkfsExt4(disk, TestDisks.partition(disk, "ROOT-A"), tree, "ROOT-A");
    Files.writeString(tree.resolve("etc/os-release"), "PRETTY_NAME=\"KubeOS v2\"\n");
    Path v2Image = dir.resolve("v2.img");
    TestDisks.run("mkfs.ext4", "-q", "-F", "-d", tree.toString(), v2Image.toString(), "16M");
    v2 = Files.readAllBytes(v2Image);
    stateDir = dir.resolve("persist/kubeos");
    server = PayloadServer.http().serve("/v2.img", v2);
    agent().init("v1", null);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  Agent agent() {
    return HostAgents.create(
        new AgentOptions(
            disk,
            dir.resolve("esp"),
            stateDir,
            Slot.A,
            dir.resolve("no-health.json"),
            dir.resolve("certs")),
        Clock.systemUTC());
  }

  StageRequest request(DownloadLimits limits) {
    return new StageRequest(
        server.url("/v2.img"),
        SimulatedNode.sha256(v2),
        "v2",
        StageRequest.Format.RAW,
        FetchOptions.defaults().withInsecure(true).withLimits(limits));
  }

  @Test
  void aDripUnderTheMinimumRateFailsRetryablyAndReleasesTheLock() throws IOException {
    server.limitRate(256 << 10); // at most 256 KiB/s, in 256 KiB steps
    DownloadLimits strict =
        new DownloadLimits(Duration.ofHours(1), 64 << 20, Duration.ofMillis(100));
    Agent agent = agent();

    assertThatThrownBy(() -> agent.stage(request(strict), ProgressListener.NONE))
        .isInstanceOfSatisfying(
            AgentException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.DOWNLOAD_TOO_SLOW);
              assertThat(e.code().action()).isEqualTo(Action.RETRY);
              assertThat(e.getMessage()).contains("/v2.img", "minimum rate");
            });
    assertThat(agent.status().slots().get(Slot.B).state()).isNotEqualTo(SlotState.VERIFIED);

    // the operation ended, so its lock is free: another holder takes it at once
    try (OperationLock.Held held =
        new FileOperationLock(stateDir, Clock.systemUTC()).acquire("probe")) {
      assertThat(held).isNotNull();
    }

    server.limitRate(0);
    agent.stage(request(DownloadLimits.DEFAULTS), ProgressListener.NONE);
    assertThat(agent.status().slots().get(Slot.B).state()).isEqualTo(SlotState.VERIFIED);
  }

  @Test
  void theOverallDeadlineEndsADownloadThatKeepsTheRate() {
    server.limitRate(256 << 10);
    // no rate rule, a deadline far shorter than the 16 MiB image takes at 256 KiB/s
    DownloadLimits deadline = new DownloadLimits(Duration.ofMillis(200), 0, Duration.ofSeconds(1));

    assertThatThrownBy(() -> agent().stage(request(deadline), ProgressListener.NONE))
        .isInstanceOfSatisfying(
            AgentException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.DOWNLOAD_TOO_SLOW);
              assertThat(e.getMessage()).contains("overall deadline");
            });
  }
}
