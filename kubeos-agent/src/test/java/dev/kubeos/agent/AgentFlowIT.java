package dev.kubeos.agent;

import static dev.kubeos.agent.AgentCrashIT.random;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.agent.health.HealthConfig;
import dev.kubeos.agent.port.CommandRunner;
import dev.kubeos.agent.stage.ProgressListener;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.AgentStatus;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.api.agent.Slot;
import dev.kubeos.api.agent.SlotState;
import dev.kubeos.oci.source.FetchOptions;
import dev.kubeos.testing.TestDisks;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent's life cycle on a simulated node with a real GPT layout, path by path. */
class AgentFlowIT {
  static byte[] pristine;
  static final byte[] V1 = random(11, 1 << 20);
  static final byte[] V2 = random(12, 2 << 20);
  static final byte[] V3 = random(13, 3 << 20);

  SimulatedNode node;
  final Crash never = new Crash(-1, -1);

  @BeforeAll
  static void makeDisk(@TempDir Path dir) throws IOException {
    pristine = Files.readAllBytes(TestDisks.create(dir.resolve("disk.img"), 1, 4, 1));
  }

  @BeforeEach
  void node() throws IOException {
    node = new SimulatedNode(pristine);
    node.writeSlot(Slot.A, V1);
    node.payloads.put("memory://v2", V2);
    node.payloads.put("memory://v3", V3);
    node.payloads.put("memory://huge", new byte[5 << 20]);
    agent().init("v1", SimulatedNode.sha256(V1));
  }

  Agent agent() {
    return node.agent(never);
  }

  static StageRequest request(String name, byte[] content) {
    return new StageRequest(
        URI.create("memory://" + name),
        SimulatedNode.sha256(content),
        name,
        StageRequest.Format.RAW,
        FetchOptions.defaults());
  }

  @Test
  void healthyTrialIsCommittedAndStaysCommitted() throws IOException {
    agent().stage(request("v2", V2), ProgressListener.NONE);
    AgentStatus armed = agent().activate();
    assertThat(armed.trialSlot()).isEqualTo(Slot.B);
    assertThat(armed.nextBootSlot()).isEqualTo(Slot.B);
    assertThat(armed.defaultSlot()).isEqualTo(Slot.A);

    assertThat(node.powerCycle()).isEqualTo(Slot.B);
    assertThat(agent().status().trialBoot()).isTrue();
    assertThat(agent().health(true).passed()).isTrue();

    AgentStatus s = agent().status();
    assertThat(s.defaultSlot()).isEqualTo(Slot.B);
    assertThat(s.trialSlot()).isNull();
    assertThat(s.trialBoot()).isFalse();
    assertThat(s.slots().get(Slot.B).version()).isEqualTo("v2");
    assertThat(s.slots().get(Slot.B).sha256()).isEqualTo(SimulatedNode.sha256(V2));
    assertThat(node.powerCycle()).isEqualTo(Slot.B);
    assertThat(node.reboots).isZero();
  }

  @Test
  void failedHealthCheckRecordsTheFailureAndFallsBack() throws IOException {
    node.commands = (argv, timeout) -> new CommandRunner.Result(1, "kubelet not ready", false);
    node.health =
        new HealthConfig(1, 1, List.of(new HealthConfig.Command(List.of("check-kubelet"))));
    agent().stage(request("v2", V2), ProgressListener.NONE);
    agent().activate();
    node.powerCycle();

    assertThat(agent().health(true).passed()).isFalse();
    assertThat(node.reboots).isEqualTo(1);
    assertThat(node.nextBoot()).isEqualTo(Slot.A);
    assertThat(node.powerCycle()).isEqualTo(Slot.A);

    AgentStatus s = agent().status();
    assertThat(s.slots().get(Slot.B).state()).isEqualTo(SlotState.FAILED_TRIAL);
    assertThat(s.lastFailure()).contains("slot B", "v2", "kubelet not ready");
    assertThatThrownBy(() -> agent().rollback())
        .isInstanceOfSatisfying(
            AgentException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.PRECONDITION_FAILED))
        .hasMessageContaining("FAILED_TRIAL");
  }

  @Test
  void aTrialThatNeverCommitsFallsBackAndIsReported() throws IOException {
    agent().stage(request("v2", V2), ProgressListener.NONE);
    agent().activate();
    assertThat(node.powerCycle()).isEqualTo(Slot.B); // the new kernel hangs: nothing commits
    assertThat(node.powerCycle()).isEqualTo(Slot.A); // watchdog / power cycle: boot-once is over

    AgentStatus s = agent().status();
    assertThat(s.bootedSlot()).isEqualTo(Slot.A);
    assertThat(s.trialSlot()).isNull();
    assertThat(s.slots().get(Slot.B).state()).isEqualTo(SlotState.FAILED_TRIAL);
    assertThat(s.lastFailure()).contains("slot B", "did not commit");
    assertThatThrownBy(() -> agent().activate()).hasMessageContaining("nothing verified is staged");
    assertThatThrownBy(() -> agent().rollback()).hasMessageContaining("FAILED_TRIAL");
    // a new payload may be staged over the failed slot
    agent().stage(request("v3", V3), ProgressListener.NONE);
    assertThat(agent().status().slots().get(Slot.B).state()).isEqualTo(SlotState.VERIFIED);
  }

  @Test
  void rollbackAfterCommitReturnsToThePreviousVersion() throws IOException {
    upgradeToV2();
    AgentStatus s = agent().rollback();
    assertThat(s.defaultSlot()).isEqualTo(Slot.A);
    assertThat(s.nextBootSlot()).isEqualTo(Slot.A);
    // the slot to be booted next is protected until the node runs it
    assertThatThrownBy(() -> agent().stage(request("v3", V3), ProgressListener.NONE))
        .hasMessageContaining("committed default");
    assertThat(node.powerCycle()).isEqualTo(Slot.A);
    assertThat(agent().status().slots().get(Slot.A).version()).isEqualTo("v1");
    assertThat(node.slotDigest(Slot.A, V1.length)).isEqualTo(SimulatedNode.sha256(V1));
  }

  @Test
  void nothingTouchesTheFallbackSlotDuringATrialBoot() throws IOException {
    agent().stage(request("v2", V2), ProgressListener.NONE);
    agent().activate();
    node.powerCycle();
    assertThatThrownBy(() -> agent().stage(request("v3", V3), ProgressListener.NONE))
        .hasMessageContaining("uncommitted trial");
    assertThatThrownBy(() -> agent().activate()).hasMessageContaining("uncommitted trial");
    assertThat(node.slotDigest(Slot.A, V1.length)).isEqualTo(SimulatedNode.sha256(V1));
  }

  @Test
  void commitAndActivateRefuseOutsideTheirState() {
    assertThatThrownBy(() -> agent().commit())
        .isInstanceOfSatisfying(
            AgentException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.PRECONDITION_FAILED))
        .hasMessageContaining("not a verified trial");
    assertThatThrownBy(() -> agent().activate())
        .hasMessageContaining("nothing verified is staged in slot B");
    assertThatThrownBy(() -> agent().init("v1", null)).hasMessageContaining("already initialised");
  }

  @Test
  void wrongDigestLeavesABootableNodeAndAnEmptyTarget() throws IOException {
    byte[] envBefore = node.bootStore.readCopy(0);
    StageRequest wrong =
        new StageRequest(
            URI.create("memory://v2"),
            SimulatedNode.sha256(V3),
            "v2",
            StageRequest.Format.RAW,
            FetchOptions.defaults());
    assertThatThrownBy(() -> agent().stage(wrong, ProgressListener.NONE))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CHECKSUM_MISMATCH));
    AgentStatus s = agent().status();
    assertThat(s.slots().get(Slot.B).state()).isEqualTo(SlotState.EMPTY);
    assertThat(s.nextBootSlot()).isEqualTo(Slot.A);
    assertThat(node.bootStore.readCopy(0)).isEqualTo(envBefore);
    assertThatThrownBy(() -> agent().activate()).hasMessageContaining("nothing verified");
  }

  @Test
  void payloadLargerThanTheSlotChangesNothingAtAll() throws IOException {
    upgradeToV2();
    agent().rollback();
    node.powerCycle(); // on A again, B holds verified v2
    var stateBefore = node.state();
    byte[] env0 = node.bootStore.readCopy(0);
    byte[] env1 = node.bootStore.readCopy(1);
    StageRequest huge =
        new StageRequest(
            URI.create("memory://huge"),
            SimulatedNode.sha256(new byte[5 << 20]),
            "v9",
            StageRequest.Format.RAW,
            FetchOptions.defaults());
    assertThatThrownBy(() -> agent().stage(huge, ProgressListener.NONE))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.PAYLOAD_TOO_LARGE));
    assertThat(node.state()).isEqualTo(stateBefore);
    assertThat(node.bootStore.readCopy(0)).isEqualTo(env0);
    assertThat(node.bootStore.readCopy(1)).isEqualTo(env1);
    assertThat(node.slotDigest(Slot.B, V2.length)).isEqualTo(SimulatedNode.sha256(V2));
  }

  @Test
  void restagingDisarmsAPendingTrialBeforeWriting() throws IOException {
    agent().stage(request("v2", V2), ProgressListener.NONE);
    agent().activate();
    agent().stage(request("v3", V3), ProgressListener.NONE);
    AgentStatus s = agent().status();
    assertThat(s.trialSlot()).isNull();
    assertThat(s.nextBootSlot()).isEqualTo(Slot.A);
    assertThat(s.slots().get(Slot.B).version()).isEqualTo("v3");
  }

  @Test
  void upstreamsVersionFormIsStagedAndRecordedAsGiven() throws IOException {
    StageRequest upstream =
        new StageRequest(
            URI.create("memory://v2"),
            SimulatedNode.sha256(V2),
            "KubeOS 2.0.0",
            StageRequest.Format.RAW,
            FetchOptions.defaults());
    agent().stage(upstream, ProgressListener.NONE);
    assertThat(agent().status().slots().get(Slot.B).version()).isEqualTo("KubeOS 2.0.0");
  }

  @Test
  void invalidRequestsAreRefusedBeforeAnythingHappens() {
    StageRequest badDigest =
        new StageRequest(
            URI.create("memory://v2"),
            "abc",
            "v2",
            StageRequest.Format.RAW,
            FetchOptions.defaults());
    assertThatThrownBy(() -> agent().stage(badDigest, ProgressListener.NONE))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST));
    StageRequest badVersion =
        new StageRequest(
            URI.create("memory://v2"),
            SimulatedNode.sha256(V2),
            "v2\n; rm -rf /",
            StageRequest.Format.RAW,
            FetchOptions.defaults());
    assertThatThrownBy(() -> agent().stage(badVersion, ProgressListener.NONE))
        .hasMessageContaining("invalid version");
    assertThat(node.state().slot(Slot.B).state()).isEqualTo(SlotState.EMPTY);
  }

  private void upgradeToV2() throws IOException {
    agent().stage(request("v2", V2), ProgressListener.NONE);
    agent().activate();
    node.powerCycle();
    agent().health(true);
    assertThat(agent().status().defaultSlot()).isEqualTo(Slot.B);
  }
}
