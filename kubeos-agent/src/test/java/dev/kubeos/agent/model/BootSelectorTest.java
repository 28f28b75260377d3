package dev.kubeos.agent.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kubeos.api.agent.Slot;
import dev.kubeos.formats.boot.GrubEnvBlock;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BootSelectorTest {

  // Notation of the copy and record columns: see EnvSpec.
  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
  # case                                     | copy 0                   | copy 1                | record             | slot | trial | id
  fresh: no files at all                     | -                        | -                     | -                  | A    | false | 0
  fresh: initialized A                       | 1:A                      | 2:A                   | empty              | A    | false | 0
  default B                                  | 1:A                      | 2:B                   | -                  | B    | false | 0
  default B in copy 0 (higher seq)           | 7:B                      | 6:A                   | -                  | B    | false | 0
  seqs compare as numbers: 10 > 9            | 9:A                      | 10:B                  | -                  | B    | false | 0
  trial pending, no record                   | 4:A>B#7                  | 3:A                   | -                  | B    | true  | 7
  trial pending, empty record                | 4:A>B#7                  | 3:A                   | empty              | B    | true  | 7
  trial pending, older trial consumed        | 4:A>B#7                  | 3:A>B#6               | 6                  | B    | true  | 7
  trial consumed: default                    | 4:A>B#7                  | 3:A                   | 7                  | A    | false | 0
  trial id 0 consumed: default               | 4:A>B#0                  | -                     | 0                  | A    | false | 0
  record 07 is not id 7 (GRUB: strings)      | 4:A>B#7                  | 3:A                   | 07                 | B    | true  | 7
  record not a number                        | 4:A>B#7                  | 3:A                   | x                  | B    | true  | 7
  record junk counts as none                 | 4:A>B#7                  | 3:A                   | junk               | B    | true  | 7
  trial in the older copy only is ignored    | 5:A                      | 4:A>B#3               | -                  | A    | false | 0
  trial == default, pending                  | 4:B>B#2                  | -                     | -                  | B    | true  | 2
  trial == default, consumed                 | 4:B>B#2                  | -                     | 2                  | B    | false | 0
  copy 1 missing                             | 5:B                      | -                     | -                  | B    | false | 0
  copy 0 missing                             | -                        | 5:B                   | -                  | B    | false | 0
  copy 1 newer but seq_end differs (torn)    | 5:A                      | 6:B!end=5             | -                  | A    | false | 0
  copy 1 newer but no seq_end (torn)         | 5:A                      | 6:B!noend             | -                  | A    | false | 0
  copy 1 torn: 100 bytes of 6:B over 4:A     | 5:A                      | 6:B>B#1~4:A@100       | -                  | A    | false | 0
  copy 0 torn: 60 bytes of 7:B over 5:A      | 7:B~5:A@60               | 6:A                   | -                  | A    | false | 0
  copy 1 truncated to 512 bytes              | 5:A                      | trunc:6:B             | -                  | A    | false | 0
  copy 1 damaged header                      | 5:A                      | nohdr:6:B             | -                  | A    | false | 0
  copy 1 default C                           | 5:A                      | 6:C                   | -                  | A    | false | 0
  copy 1 trial X                             | 5:A                      | 6:A>X#1               | -                  | A    | false | 0
  copy 1 trial id not a number               | 5:A                      | 6:B>B#one             | -                  | A    | false | 0
  copy 1 seq with leading zero               | 5:A                      | 06:B                  | -                  | A    | false | 0
  copy 1 seq negative                        | 5:A                      | -6:B                  | -                  | A    | false | 0
  copy 1 seq of 19 digits                    | 5:A                      | 1000000000000000000:B | -                  | A    | false | 0
  both invalid: slot A                       | 6:C                      | junk                  | -                  | A    | false | 0
  both invalid although they say B           | 5:B!end=4                | 6:B>B#3!noend         | -                  | A    | false | 0
  equal seqs: copy 0 wins                    | 5:B                      | 5:A                   | -                  | B    | false | 0
  equal seqs: copy 0 wins (reversed)         | 5:A                      | 5:B                   | -                  | A    | false | 0
  18-digit seqs, copy 0 newer                | 999999999999999999:B     | 999999999999999998:A  | -                  | B    | false | 0
  18-digit seqs, copy 1 newer                | 999999999999999998:A     | 999999999999999999:B  | -                  | B    | false | 0
  18-digit trial ids                         | 3:A>B#999999999999999999 | -                     | 999999999999999998 | B    | true  | 999999999999999999
  18-digit trial id consumed                 | 3:A>B#999999999999999999 | -                     | 999999999999999999 | A    | false | 0
  """)
  void selects(
      String name, String copy0, String copy1, String record, Slot slot, boolean trial, long id) {
    BootDecision d =
        BootSelector.select(EnvSpec.copy(copy0), EnvSpec.copy(copy1), EnvSpec.record(record));
    assertThat(d).as(name).isEqualTo(new BootDecision(slot, trial, id));
  }

  @Test
  void decodesWhatItEncodes() {
    BootState s =
        new BootState(42, Slot.B, Slot.A, 9, Map.of(Slot.A, "a\\b c=d", Slot.B, "# not a comment"));
    assertThat(BootSelector.decode(BootSelector.encode(s))).contains(s);
    assertThat(BootSelector.decode(null)).isEmpty();
  }

  @Test
  void encodesTheContractOrder() {
    String text = EnvSpec.text(BootSelector.encode(new BootState(3, Slot.A, null, 0, Map.of())));
    assertThat(text)
        .startsWith(
            GrubEnvBlock.HEADER
                + GrubEnvBlock.WARNING
                + "kubeos_seq=3\nkubeos_default=A\nkubeos_trial=\n"
                + "kubeos_trial_id=0\nkubeos_cmdline_a=\nkubeos_cmdline_b=\nkubeos_seq_end=3\n#");
  }

  @Test
  void planWritePingPongsAwayFromTheNewestValidCopy() {
    BootState next = new BootState(999, Slot.B, Slot.A, 5, Map.of());
    // none valid: copy 0, seq 1 (the seq of next is ignored)
    BootSelector.WritePlan p = BootSelector.planWrite(null, EnvSpec.copy("junk"), next);
    assertThat(p.index()).isZero();
    assertThat(p.written()).isEqualTo(new BootState(1, Slot.B, Slot.A, 5, Map.of()));
    assertThat(BootSelector.decode(p.block())).contains(p.written());
    // copy 0 newest: write copy 1 with seq + 1
    p = BootSelector.planWrite(EnvSpec.copy("7:A"), EnvSpec.copy("6:A"), next);
    assertThat(p.index()).isOne();
    assertThat(p.written().seq()).isEqualTo(8);
    // copy 1 newest: write copy 0
    p = BootSelector.planWrite(EnvSpec.copy("9:A"), EnvSpec.copy("10:A"), next);
    assertThat(p.index()).isZero();
    assertThat(p.written().seq()).isEqualTo(11);
    // copy 1 torn, copy 0 valid: rewrite copy 1 (never the valid copy)
    p = BootSelector.planWrite(EnvSpec.copy("4:A"), EnvSpec.copy("6:B!noend"), next);
    assertThat(p.index()).isOne();
    assertThat(p.written().seq()).isEqualTo(5);
    // tie: copy 0 counts as newest, copy 1 is written
    p = BootSelector.planWrite(EnvSpec.copy("3:A"), EnvSpec.copy("3:A"), next);
    assertThat(p.index()).isOne();
    assertThat(p.written().seq()).isEqualTo(4);
  }

  @Test
  void planWriteRefusesWhatGrubCouldNotReadBack() {
    BootState base = BootState.initial(Slot.A);
    assertThatThrownBy(
            () -> BootSelector.planWrite(EnvSpec.copy("999999999999999999:A"), null, base))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("exhausted");
    assertThatThrownBy(() -> BootSelector.planWrite(null, null, base.withTrial(Slot.B, -1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("trialId");
    BootState newline = new BootState(0, Slot.A, null, 0, Map.of(Slot.A, "quiet\nevil=1"));
    assertThatThrownBy(() -> BootSelector.planWrite(null, null, newline))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("control character");
    BootState huge = new BootState(0, Slot.A, null, 0, Map.of(Slot.B, "x".repeat(900)));
    assertThatThrownBy(() -> BootSelector.planWrite(null, null, huge))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("1024");
  }

  @Test
  void triedTrialIdReadsOnlyCanonicalNumbers() {
    assertThat(BootSelector.triedTrialId(null)).isEqualTo(BootSelector.NO_TRIAL_CONSUMED);
    assertThat(BootSelector.triedTrialId(EnvSpec.record("empty"))).isEqualTo(-1);
    assertThat(BootSelector.triedTrialId(EnvSpec.record("junk"))).isEqualTo(-1);
    assertThat(BootSelector.triedTrialId(EnvSpec.record("12"))).isEqualTo(12);
    assertThat(BootSelector.triedTrialId(EnvSpec.record("012"))).isEqualTo(-1);
    assertThat(BootSelector.triedTrialId(EnvSpec.record("0x12"))).isEqualTo(-1);
    assertThat(BootSelector.triedTrialId(BootSelector.bootRecord(77))).isEqualTo(77);
  }

  @Test
  void newestReturnsTheWinningState() {
    assertThat(BootSelector.newest(EnvSpec.copy("9:A"), EnvSpec.copy("10:B>A#4")))
        .hasValueSatisfying(
            s -> {
              assertThat(s.seq()).isEqualTo(10);
              assertThat(s.defaultSlot()).isEqualTo(Slot.B);
              assertThat(s.trialSlot()).isEqualTo(Slot.A);
              assertThat(s.trialId()).isEqualTo(4);
              assertThat(s.cmdline()).containsEntry(Slot.B, "console=ttyS0 quiet");
            });
    assertThat(BootSelector.newest(null, EnvSpec.copy("junk"))).isEmpty();
  }
}
