package dev.kubeos.agent.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.agent.model.BootDecision;
import dev.kubeos.agent.model.BootSelector;
import dev.kubeos.agent.model.BootState;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.api.agent.Slot;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class BootEnvTest {

  private final MemoryBootEnvStore store = new MemoryBootEnvStore();
  private final BootEnv env = new BootEnv(store);

  @Test
  void writesPingPongWithIncreasingSeq() throws Exception {
    assertThat(env.read()).isEmpty();
    assertThat(env.nextBoot()).isEqualTo(new BootDecision(Slot.A, false, 0));
    List<Integer> targets = new ArrayList<>();
    for (int i = 1; i <= 5; i++) {
      byte[] c0 = store.readCopy(0);
      byte[] c1 = store.readCopy(1);
      BootState written = env.write(BootState.initial(i % 2 == 0 ? Slot.A : Slot.B));
      assertThat(written.seq()).isEqualTo(i);
      targets.add(java.util.Arrays.equals(c0, store.readCopy(0)) ? 1 : 0);
      assertThat(java.util.Arrays.equals(c0, store.readCopy(0)))
          .isNotEqualTo(java.util.Arrays.equals(c1, store.readCopy(1)));
      assertThat(env.read()).contains(written);
    }
    assertThat(targets).containsExactly(0, 1, 0, 1, 0);
  }

  @Test
  void initializeWritesBothCopiesAndAnEmptyRecord() throws Exception {
    store.writeBootRecord(BootSelector.bootRecord(3));
    env.initialize(Slot.B);
    assertThat(BootSelector.decode(store.readCopy(0)))
        .contains(new BootState(1, Slot.B, null, 0, Map.of()));
    assertThat(BootSelector.decode(store.readCopy(1)))
        .contains(new BootState(2, Slot.B, null, 0, Map.of()));
    assertThat(env.triedTrialId()).isEqualTo(BootSelector.NO_TRIAL_CONSUMED);
    assertThat(store.readBootRecord()).hasSize(1024);
    assertThat(env.nextBoot()).isEqualTo(new BootDecision(Slot.B, false, 0));
  }

  @Test
  void trialIsBootedOnceThenFallsBack() throws Exception {
    env.initialize(Slot.A);
    env.write(env.read().orElseThrow().withTrial(Slot.B, 1));
    BootDecision first = env.nextBoot();
    assertThat(first).isEqualTo(new BootDecision(Slot.B, true, 1));
    store.writeBootRecord(BootSelector.bootRecord(first.consumedTrialId())); // what GRUB does
    assertThat(env.triedTrialId()).isEqualTo(1);
    assertThat(env.nextBoot()).isEqualTo(new BootDecision(Slot.A, false, 0));
  }

  @Test
  void failedWriteKeepsStateAndSaysWhatToDo() {
    BootState before = env.write(BootState.initial(Slot.A));
    store.failNextWrite();
    assertThatThrownBy(() -> env.write(BootState.initial(Slot.B)))
        .isInstanceOfSatisfying(
            AgentException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.IO_ERROR))
        .hasMessageContaining("previous boot state is still in effect");
    assertThat(env.read()).contains(before);
    assertThat(env.write(BootState.initial(Slot.B)).seq()).isEqualTo(2);
  }

  @Test
  void everyTearOffsetOfEveryWriteInAScenarioKeepsBeforeOrAfter() throws Exception {
    // A fixed scenario (init, arm trial with long command lines, commit, arm again), torn at
    // every byte offset 0..1024 of every write: read() is always the state before or after.
    List<BootState> writes =
        List.of(
            BootState.initial(Slot.A),
            new BootState(0, Slot.A, Slot.B, 1, Map.of(Slot.B, "quiet \\ x=" + "9".repeat(80))),
            new BootState(0, Slot.B, null, 1, Map.of(Slot.A, "a", Slot.B, "b")),
            new BootState(0, Slot.B, Slot.A, 10, Map.of(Slot.A, "=#=", Slot.B, "")));
    int checked = 0;
    for (int w = 0; w < writes.size(); w++) {
      for (int tear = 0; tear <= 1024; tear++) {
        MemoryBootEnvStore s = new MemoryBootEnvStore();
        BootEnv e = new BootEnv(s);
        for (int i = 0; i < w; i++) {
          e.write(writes.get(i));
        }
        Optional<BootState> before = e.read();
        BootSelector.WritePlan plan =
            BootSelector.planWrite(s.readCopy(0), s.readCopy(1), writes.get(w));
        s.tearNextWrite(tear);
        BootState next = writes.get(w);
        assertThatThrownBy(() -> e.write(next)).isInstanceOf(AgentException.class);
        assertThat(e.read())
            .as("write %d torn at %d", w, tear)
            .isIn(before, Optional.of(plan.written()));
        // and the store recovers: the next write lands and is read back
        BootState recovered = e.write(next);
        assertThat(e.read()).contains(recovered);
        checked++;
      }
    }
    assertThat(checked).isEqualTo(4 * 1025);
  }

  /** One step of a run: write {@code state}, torn after {@code tearAt} bytes (-1: not torn). */
  record Step(BootState state, int tearAt, boolean grubBoots) {}

  @Provide
  Arbitrary<List<Step>> runs() {
    Arbitrary<Slot> slot = Arbitraries.of(Slot.class);
    Arbitrary<String> cmdline = Arbitraries.strings().withChars("ab =#\\-.019").ofMaxLength(60);
    Arbitrary<BootState> state =
        Combinators.combine(
                slot, slot.injectNull(0.4), Arbitraries.longs().between(0, 4), cmdline, cmdline)
            .as((d, t, id, a, b) -> new BootState(0, d, t, id, Map.of(Slot.A, a, Slot.B, b)));
    Arbitrary<Integer> tear =
        Arbitraries.frequencyOf(
            net.jqwik.api.Tuple.of(2, Arbitraries.just(-1)),
            net.jqwik.api.Tuple.of(1, Arbitraries.integers().between(0, 1024)));
    Arbitrary<Step> step =
        Combinators.combine(state, tear, Arbitraries.of(true, false)).as(Step::new);
    return step.list().ofMinSize(1).ofMaxSize(12);
  }

  @Property(tries = 400)
  void aTornWriteLeavesTheStateBeforeOrAfter(@ForAll("runs") List<Step> run) throws Exception {
    MemoryBootEnvStore s = new MemoryBootEnvStore();
    BootEnv e = new BootEnv(s);
    for (Step step : run) {
      Optional<BootState> before = e.read();
      BootDecision decisionBefore = e.nextBoot();
      byte[] c0 = s.readCopy(0);
      byte[] c1 = s.readCopy(1);
      byte[] record = s.readBootRecord();
      BootSelector.WritePlan plan = BootSelector.planWrite(c0, c1, step.state());
      byte[] a0 = plan.index() == 0 ? plan.block() : c0;
      byte[] a1 = plan.index() == 1 ? plan.block() : c1;
      BootDecision decisionAfter = BootSelector.select(a0, a1, record);

      if (step.tearAt() >= 0) {
        s.tearNextWrite(step.tearAt());
        assertThatThrownBy(() -> e.write(step.state()))
            .isInstanceOf(AgentException.class)
            .hasMessageContaining("injected torn write");
        assertThat(e.read())
            .as("after tear at %d", step.tearAt())
            .isIn(before, Optional.of(plan.written()));
        assertThat(e.nextBoot()).isIn(decisionBefore, decisionAfter);
      } else {
        // a write that arms no trial is repeated over the other copy when that one still arms one
        Optional<BootState> older = BootSelector.decode(plan.index() == 0 ? a1 : a0);
        boolean twice =
            step.state().trialSlot() == null
                && older.isPresent()
                && older.get().trialSlot() != null;
        BootState w = plan.written();
        BootState expected =
            twice ? new BootState(w.seq() + 1, w.defaultSlot(), null, w.trialId(), w.cmdline()) : w;
        assertThat(e.write(step.state())).isEqualTo(expected);
        assertThat(e.read()).contains(expected);
        assertThat(e.nextBoot()).isEqualTo(decisionAfter);
        if (step.state().trialSlot() == null) {
          for (byte[] copy : new byte[][] {s.readCopy(0), s.readCopy(1)}) {
            assertThat(BootSelector.decode(copy).map(BootState::trialSlot))
                .isNotEqualTo(Optional.of(Slot.A))
                .isNotEqualTo(Optional.of(Slot.B));
          }
        }
      }
      if (step.grubBoots()) {
        BootDecision d = e.nextBoot();
        if (d.trial()) {
          s.writeBootRecord(BootSelector.bootRecord(d.consumedTrialId()));
          assertThat(e.nextBoot().trial()).isFalse();
        }
      }
    }
  }
}
