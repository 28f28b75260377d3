package dev.kubeos.agent.model;

import dev.kubeos.api.agent.Slot;
import dev.kubeos.formats.boot.GrubEnvBlock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The boot contract's slot selection, the same rules grub.cfg ({@code grub.cfg.in}) applies at
 * boot. Pure: works on the raw bytes of the two agent copies and GRUB's boot record (null = file
 * missing).
 *
 * <p>A copy is valid when it is a GRUB environment block whose {@code kubeos_seq} is a canonical
 * decimal number (no sign, no leading zero, at most 18 digits so that GRUB's signed 64-bit {@code
 * -gt} compares it exactly) equal to {@code kubeos_seq_end}, whose {@code kubeos_default} is A or
 * B, whose {@code kubeos_trial} is empty, A or B, and whose {@code kubeos_trial_id} is a canonical
 * decimal number. The newest state is the valid copy with the higher seq (copy 0 on a tie).
 */
public final class BootSelector {

  public static final String SEQ = "kubeos_seq";
  public static final String DEFAULT = "kubeos_default";
  public static final String TRIAL = "kubeos_trial";
  public static final String TRIAL_ID = "kubeos_trial_id";
  public static final String CMDLINE_A = "kubeos_cmdline_a";
  public static final String CMDLINE_B = "kubeos_cmdline_b";
  public static final String SEQ_END = "kubeos_seq_end";
  public static final String TRIED = "kubeos_tried";

  /** Largest seq / trial id: 18 decimal digits, well inside GRUB's signed 64-bit comparison. */
  public static final long MAX_NUMBER = 999_999_999_999_999_999L;

  /** What {@link #triedTrialId} returns when the boot record names no (valid) consumed trial. */
  public static final long NO_TRIAL_CONSUMED = -1;

  /** Canonical decimal, the same expression grub.cfg checks with {@code regexp}. */
  private static final Pattern NUMBER = Pattern.compile("0|[1-9][0-9]{0,17}");

  private static final Pattern SLOT = Pattern.compile("A|B");

  /**
   * Where and what to write next: the block for copy {@code index}, and the state it holds.
   *
   * @param index the copy to overwrite (0 or 1): never the newest valid copy
   * @param block the 1024-byte GRUB environment block
   * @param written the state as written (with its new seq)
   */
  public record WritePlan(int index, byte[] block, BootState written) {}

  private BootSelector() {}

  /** The state a copy holds, or empty when the copy is missing, torn or otherwise invalid. */
  public static Optional<BootState> decode(byte[] copy) {
    Optional<LinkedHashMap<String, String>> parsed = GrubEnvBlock.parse(copy);
    if (parsed.isEmpty()) {
      return Optional.empty();
    }
    Map<String, String> v = parsed.get();
    String seq = v.getOrDefault(SEQ, "");
    String def = v.getOrDefault(DEFAULT, "");
    String trial = v.getOrDefault(TRIAL, "");
    String trialId = v.getOrDefault(TRIAL_ID, "");
    if (!NUMBER.matcher(seq).matches()
        || !seq.equals(v.get(SEQ_END))
        || !SLOT.matcher(def).matches()
        || !(trial.isEmpty() || SLOT.matcher(trial).matches())
        || !NUMBER.matcher(trialId).matches()) {
      return Optional.empty();
    }
    return Optional.of(
        new BootState(
            Long.parseLong(seq),
            Slot.valueOf(def),
            trial.isEmpty() ? null : Slot.valueOf(trial),
            Long.parseLong(trialId),
            Map.of(Slot.A, v.getOrDefault(CMDLINE_A, ""), Slot.B, v.getOrDefault(CMDLINE_B, ""))));
  }

  /**
   * Encodes a state as one agent copy, variables in the contract's order (seq first, seq_end last,
   * so a block torn anywhere in between is invalid).
   *
   * @throws IllegalArgumentException when a number is out of range, a command line holds a control
   *     character, or the variables do not fit in a block
   */
  public static byte[] encode(BootState state) {
    checkNumber("seq", state.seq());
    checkNumber("trialId", state.trialId());
    for (Slot s : Slot.values()) {
      String cmdline = state.cmdline().get(s);
      if (cmdline.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
        throw new IllegalArgumentException(
            "kernel command line for slot " + s + " contains a control character: " + cmdline);
      }
    }
    LinkedHashMap<String, String> v = new LinkedHashMap<>();
    v.put(SEQ, Long.toString(state.seq()));
    v.put(DEFAULT, state.defaultSlot().name());
    v.put(TRIAL, state.trialSlot() == null ? "" : state.trialSlot().name());
    v.put(TRIAL_ID, Long.toString(state.trialId()));
    v.put(CMDLINE_A, state.cmdline().get(Slot.A));
    v.put(CMDLINE_B, state.cmdline().get(Slot.B));
    v.put(SEQ_END, Long.toString(state.seq()));
    return GrubEnvBlock.encode(v);
  }

  /** The newest valid state: the valid copy with the higher seq, copy 0 on a tie. */
  public static Optional<BootState> newest(byte[] copy0, byte[] copy1) {
    int index = newestIndex(copy0, copy1);
    return index < 0 ? Optional.empty() : decode(index == 0 ? copy0 : copy1);
  }

  /** Index (0/1) of the newest valid copy, or -1 when neither copy is valid. */
  public static int newestIndex(byte[] copy0, byte[] copy1) {
    Optional<BootState> s0 = decode(copy0);
    Optional<BootState> s1 = decode(copy1);
    if (s0.isPresent() && s1.isPresent()) {
      return s1.get().seq() > s0.get().seq() ? 1 : 0;
    }
    return s0.isPresent() ? 0 : s1.isPresent() ? 1 : -1;
  }

  /**
   * What GRUB boots: slot A when no copy is valid; the armed trial slot when its id differs from
   * the id in the boot record (GRUB then records it: boot-once); otherwise the default slot.
   */
  public static BootDecision select(byte[] copy0, byte[] copy1, byte[] bootRecord) {
    Optional<BootState> state = newest(copy0, copy1);
    if (state.isEmpty()) {
      return new BootDecision(Slot.A, false, 0);
    }
    BootState s = state.get();
    if (s.trialSlot() != null && s.trialId() != triedTrialId(bootRecord)) {
      return new BootDecision(s.trialSlot(), true, s.trialId());
    }
    return new BootDecision(s.defaultSlot(), false, 0);
  }

  /**
   * The trial id GRUB recorded as consumed ({@code kubeos_tried}), or {@link #NO_TRIAL_CONSUMED}
   * when the record is missing, not a GRUB environment block, lacks the variable or holds anything
   * but a canonical decimal number (GRUB compares the ids as strings, so "07" never equals a trial
   * id).
   */
  public static long triedTrialId(byte[] bootRecord) {
    String tried = GrubEnvBlock.parse(bootRecord).map(v -> v.get(TRIED)).orElse(null);
    return tried != null && NUMBER.matcher(tried).matches()
        ? Long.parseLong(tried)
        : NO_TRIAL_CONSUMED;
  }

  /** A boot record saying GRUB consumed {@code trialId} (what GRUB's save_env leaves). */
  public static byte[] bootRecord(long trialId) {
    checkNumber("trialId", trialId);
    return GrubEnvBlock.encode(Map.of(TRIED, Long.toString(trialId)));
  }

  /** A boot record saying no trial was consumed (an empty block GRUB can save_env into). */
  public static byte[] emptyBootRecord() {
    return GrubEnvBlock.encode(Map.of());
  }

  /**
   * Plans the next write: the copy that is NOT the newest valid one (copy 0 when none is valid),
   * with seq = newest seq + 1 (1 when none is valid). The seq of {@code next} is ignored.
   *
   * @throws IllegalArgumentException when {@code next} cannot be encoded
   * @throws IllegalStateException when the seq would exceed {@link #MAX_NUMBER}
   */
  public static WritePlan planWrite(byte[] copy0, byte[] copy1, BootState next) {
    int newest = newestIndex(copy0, copy1);
    long seq = newest < 0 ? 1 : decode(newest == 0 ? copy0 : copy1).orElseThrow().seq() + 1;
    if (seq > MAX_NUMBER) {
      throw new IllegalStateException(
          "boot environment sequence number exhausted (" + (seq - 1) + "); re-initialize it");
    }
    BootState written =
        new BootState(seq, next.defaultSlot(), next.trialSlot(), next.trialId(), next.cmdline());
    return new WritePlan(newest == 0 ? 1 : 0, encode(written), written);
  }

  private static void checkNumber(String what, long value) {
    if (value < 0 || value > MAX_NUMBER) {
      throw new IllegalArgumentException(
          what + " must be between 0 and " + MAX_NUMBER + " (GRUB compares it), got " + value);
    }
  }
}
