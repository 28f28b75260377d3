package dev.kubeos.agent.boot;

import dev.kubeos.agent.model.BootDecision;
import dev.kubeos.agent.model.BootSelector;
import dev.kubeos.agent.model.BootState;
import dev.kubeos.agent.port.BootEnvStore;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.api.agent.Slot;
import java.io.IOException;
import java.util.Objects;
import java.util.Optional;

/**
 * The agent's view of the bootloader environment: reads the newest valid redundant copy, writes
 * ping-pong (never over the newest valid copy, so an interrupted write keeps the previous state)
 * and predicts what GRUB boots next. I/O failures become {@link AgentException} with {@link
 * ErrorCode#IO_ERROR}.
 */
public final class BootEnv {

  private final BootEnvStore store;

  public BootEnv(BootEnvStore store) {
    this.store = Objects.requireNonNull(store, "store");
  }

  /** The newest valid state, or empty when neither copy is valid (GRUB then boots slot A). */
  public Optional<BootState> read() {
    return BootSelector.newest(readCopy(0), readCopy(1));
  }

  /**
   * Durably writes {@code next} (its seq is replaced by newest + 1) into the copy that is not the
   * newest valid one. When {@code next} arms no trial but the other copy still does, {@code next}
   * is written a second time, over that copy: a disarmed trial then lives in no copy, so falling
   * back to the older copy can never arm it again. Each of the two writes goes to the copy that is
   * not newest, so an interrupted one keeps the previous valid state as before.
   *
   * @return the state as written, with its seq
   * @throws AgentException IO_ERROR when the copy cannot be written (the previous state is kept)
   */
  public BootState write(BootState next) {
    BootState written = writeOnce(next);
    int newest = BootSelector.newestIndex(readCopy(0), readCopy(1));
    Optional<BootState> older = BootSelector.decode(newest == 0 ? readCopy(1) : readCopy(0));
    if (next.trialSlot() == null && older.isPresent() && older.get().trialSlot() != null) {
      written = writeOnce(next);
    }
    return written;
  }

  private BootState writeOnce(BootState next) {
    BootSelector.WritePlan plan = BootSelector.planWrite(readCopy(0), readCopy(1), next);
    try {
      store.writeCopy(plan.index(), plan.block());
    } catch (IOException e) {
      throw new AgentException(
          ErrorCode.IO_ERROR,
          "could not write boot environment copy "
              + plan.index()
              + " ("
              + e.getMessage()
              + "); the previous boot state is still in effect. Check that the ESP is mounted"
              + " read-write and not full, then retry",
          e);
    }
    return plan.written();
  }

  /** What GRUB will boot next, given the copies and GRUB's boot record as they are now. */
  public BootDecision nextBoot() {
    return BootSelector.select(readCopy(0), readCopy(1), readBootRecord());
  }

  /** The trial id GRUB recorded as consumed, or {@link BootSelector#NO_TRIAL_CONSUMED}. */
  public long triedTrialId() {
    return BootSelector.triedTrialId(readBootRecord());
  }

  /**
   * Sets up a fresh environment booting {@code defaultSlot} with no trial: an empty boot record,
   * then the same state written twice through {@link #write} so both copies are valid (fresh store:
   * seq 1 in copy 0, seq 2 in copy 1). Every step keeps a valid newest copy if one existed.
   */
  public void initialize(Slot defaultSlot) {
    try {
      store.writeBootRecord(BootSelector.emptyBootRecord());
    } catch (IOException e) {
      throw new AgentException(
          ErrorCode.IO_ERROR,
          "could not write the GRUB boot record ("
              + e.getMessage()
              + "). Check that the ESP is mounted read-write, then retry",
          e);
    }
    BootState fresh = BootState.initial(defaultSlot);
    write(fresh);
    write(fresh);
  }

  private byte[] readCopy(int index) {
    try {
      return store.readCopy(index);
    } catch (IOException e) {
      throw new AgentException(
          ErrorCode.IO_ERROR,
          "could not read boot environment copy "
              + index
              + " ("
              + e.getMessage()
              + "). Check that the ESP is mounted and readable",
          e);
    }
  }

  private byte[] readBootRecord() {
    try {
      return store.readBootRecord();
    } catch (IOException e) {
      throw new AgentException(
          ErrorCode.IO_ERROR,
          "could not read the GRUB boot record ("
              + e.getMessage()
              + "). Check that the ESP is mounted and readable",
          e);
    }
  }
}
