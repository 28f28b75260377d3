package dev.kubeos.agent.stage;

import dev.kubeos.agent.disk.DiskLayout;
import dev.kubeos.agent.model.BootState;
import dev.kubeos.agent.port.BlockDevice;
import dev.kubeos.agent.port.DiskOpener;
import dev.kubeos.agent.state.NodeRecords;
import dev.kubeos.api.agent.Slot;
import dev.kubeos.api.agent.SlotState;
import dev.kubeos.oci.source.DamagedCacheException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Stages a resolved payload into a slot, and is the one place that orders the slot's durable
 * records around the write (the stage row of "Safety invariant" in docs/architecture.md):
 *
 * <ol>
 *   <li>until the first byte lands in the slot nothing is recorded, so every earlier failure (bad
 *       URL, 404, payload too large, refused digest) leaves the node exactly as it was;
 *   <li>right before the first byte: a trial of the slot armed in the boot env is disarmed, then
 *       the slot is recorded {@code STAGING} (not bootable);
 *   <li>a failure after that records the slot {@code EMPTY};
 *   <li>only once the writer verified what landed in the slot is it recorded {@code VERIFIED}.
 * </ol>
 *
 * A blob-cache file found damaged ({@link DamagedCacheException}; it is gone by then) makes the
 * stage run once more, which fetches the blob from its source.
 *
 * @param disk the node's disk
 * @param seed the booted slot (the seed of delta payloads)
 * @param records the boot env and the slot records
 * @param writers one writer per kind of payload
 */
public record SlotStager(DiskOpener disk, Slot seed, NodeRecords records, PayloadWriters writers) {
  private static final System.Logger LOG = System.getLogger("kubeos.agent");

  /** Writes {@code payload} ({@code version}) into {@code target} and records it verified. */
  public StageResult stage(
      ResolvedPayload payload, String version, Slot target, ProgressListener progress)
      throws IOException {
    AtomicBoolean touched = new AtomicBoolean();
    Runnable beforeFirstWrite = () -> markStaging(target, version, touched);
    StageResult result;
    try {
      result = write(payload, version, target, beforeFirstWrite, progress);
    } catch (RuntimeException | IOException e) {
      if (touched.get()) {
        markFailed(target, version, e);
      }
      if (e instanceof UncheckedIOException u) {
        throw u.getCause();
      }
      throw e;
    }
    markVerified(target, version, result);
    return result;
  }

  private StageResult write(
      ResolvedPayload payload,
      String version,
      Slot target,
      Runnable beforeFirstWrite,
      ProgressListener progress)
      throws IOException {
    try (BlockDevice device = disk.open(true)) {
      DiskLayout layout = DiskLayout.read(device, disk.name());
      TargetSlot slot =
          new TargetSlot(version, device, layout, target, seed, beforeFirstWrite, progress);
      try {
        return writers.write(payload, slot);
      } catch (DamagedCacheException e) {
        log("stage %s: %s; staging again, fetching it from its source", version, e.getMessage());
        return writers.write(payload, slot);
      }
    }
  }

  private void markStaging(Slot target, String version, AtomicBoolean touched) {
    try {
      BootState boot = records.bootEnv().read().orElseThrow();
      if (boot.trialSlot() == target) {
        records.bootEnv().write(boot.withoutTrial());
        log("stage %s: disarmed the pending trial of slot %s", version, target);
      }
      records.saveSlot(target, version, null, SlotState.STAGING);
      touched.set(true);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void markFailed(Slot target, String version, Exception cause) {
    try {
      records.saveSlot(target, null, null, SlotState.EMPTY);
      log(
          "stage %s: failed after writing into slot %s, slot marked EMPTY: %s",
          version, target, cause.getMessage());
    } catch (IOException | RuntimeException e) {
      // The slot stays STAGING on disk, which is just as unbootable; the original error matters.
      cause.addSuppressed(e);
    }
  }

  private void markVerified(Slot target, String version, StageResult result) throws IOException {
    records.saveSlot(target, version, result.actual().hex(), SlotState.VERIFIED);
    log(
        "stage %s: slot %s verified (%d bytes, read-back %s, %d resumes, %s)",
        version,
        target,
        result.bytes(),
        result.readBackUncached() ? "from the device" : "through the page cache",
        result.resumes(),
        result.elapsed());
  }

  private static void log(String format, Object... args) {
    LOG.log(System.Logger.Level.INFO, String.format(format, args));
  }
}
