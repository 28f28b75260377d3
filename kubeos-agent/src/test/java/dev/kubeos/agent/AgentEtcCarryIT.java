package dev.kubeos.agent;

import static dev.kubeos.agent.AgentCrashIT.random;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.agent.port.EtcCarrier;
import dev.kubeos.agent.stage.ProgressListener;
import dev.kubeos.api.agent.EtcMergeStatus;
import dev.kubeos.api.agent.Slot;
import dev.kubeos.testing.TestDisks;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * When the agent carries the node's /etc to the other slot: before a trial is armed, on a rollback
 * from a committed slot, never on a rollback of an uncommitted trial; a failed merge arms nothing.
 */
class AgentEtcCarryIT {
  static byte[] pristine;
  static final byte[] V1 = random(21, 1 << 20);
  static final byte[] V2 = random(22, 2 << 20);

  final Crash never = new Crash(-1, -1);
  SimulatedNode node;
  RecordingCarrier carrier;

  @BeforeAll
  static void makeDisk(@TempDir Path dir) throws IOException {
    pristine = Files.readAllBytes(TestDisks.create(dir.resolve("disk.img"), 1, 4, 1));
  }

  @BeforeEach
  void node() throws IOException {
    node = new SimulatedNode(pristine);
    node.writeSlot(Slot.A, V1);
    node.payloads.put("memory://v2", V2);
    carrier = new RecordingCarrier();
    node.etc = carrier;
    agent().init("v1", SimulatedNode.sha256(V1));
    agent().stage(AgentFlowIT.request("v2", V2), ProgressListener.NONE);
  }

  Agent agent() {
    return node.agent(never);
  }

  @Test
  void activateMergesIntoTheTargetSlotBeforeArmingItsTrial() throws IOException {
    carrier.armedWhenCalled = () -> agent().status().trialSlot();
    agent().activate();
    assertThat(carrier.calls).containsExactly("A->B v2");
    assertThat(carrier.trialSlotSeen).containsExactly((Slot) null);
    assertThat(agent().status().trialSlot()).isEqualTo(Slot.B);
    assertThat(agent().status().etcMerge().toSlot()).isEqualTo(Slot.B);
  }

  @Test
  void aFailedMergeArmsNoTrial() throws IOException {
    carrier.failure = new IOException("disk full while writing /persist/etc/B.1");
    assertThatThrownBy(() -> agent().activate()).hasMessageContaining("disk full");
    assertThat(agent().status().trialSlot()).isNull();
    assertThat(node.nextBoot()).isEqualTo(Slot.A);
  }

  @Test
  void rollbackFromACommittedSlotCarriesItsEtcBack() throws IOException {
    agent().activate();
    node.powerCycle();
    agent().commit();
    carrier.calls.clear();
    agent().rollback();
    assertThat(carrier.calls).containsExactly("B->A v1");
  }

  @Test
  void rollbackOfAnUncommittedTrialLeavesTheDefaultSlotsEtcAlone() throws IOException {
    agent().activate();
    node.powerCycle();
    carrier.calls.clear();
    agent().rollback();
    assertThat(carrier.calls).isEmpty();
    assertThat(node.nextBoot()).isEqualTo(Slot.A);
  }

  @Test
  void aPreviewNamesTheStagedSlotAndArmsNothing() throws IOException {
    assertThat(agent().previewEtc().toVersion()).isEqualTo("v2");
    assertThat(carrier.calls).containsExactly("preview A->B v2");
    assertThat(agent().status().trialSlot()).isNull();
    assertThat(agent().status().etcMerge()).isNull();
  }

  @Test
  void statusLeavesTheFieldOutWhenNoMergeRan() {
    assertThat(agent().status().etcMerge()).isNull();
  }

  /** Records each carry and what the boot env held at that moment. */
  static final class RecordingCarrier implements EtcCarrier {
    final List<String> calls = new ArrayList<>();
    final List<Slot> trialSlotSeen = new ArrayList<>();
    IOException failure;
    java.util.function.Supplier<Slot> armedWhenCalled = () -> null;
    EtcMergeStatus last;

    @Override
    public EtcMergeStatus carry(Slot from, Slot to, String toVersion) throws IOException {
      if (failure != null) {
        throw failure;
      }
      trialSlotSeen.add(armedWhenCalled.get());
      calls.add(from + "->" + to + " " + toVersion);
      last =
          new EtcMergeStatus(
              from,
              to,
              toVersion,
              Instant.EPOCH,
              "/persist/etc/" + to + "/upper",
              List.of(),
              List.of(),
              0,
              null);
      return last;
    }

    @Override
    public EtcMergeStatus preview(Slot from, Slot to, String toVersion) {
      calls.add("preview " + from + "->" + to + " " + toVersion);
      return new EtcMergeStatus(
          from, to, toVersion, Instant.EPOCH, null, List.of(), List.of(), 0, "dry run");
    }

    @Override
    public Optional<EtcMergeStatus> lastReport() {
      return Optional.ofNullable(last);
    }
  }
}
