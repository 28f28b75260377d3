package dev.kubeos.agent;

import static dev.kubeos.api.agent.ErrorCode.INVALID_REQUEST;
import static dev.kubeos.api.agent.ErrorCode.IO_ERROR;
import static dev.kubeos.api.agent.ErrorCode.PRECONDITION_FAILED;

import dev.kubeos.agent.boot.BootEnv;
import dev.kubeos.agent.delta.DeltaImages;
import dev.kubeos.agent.delta.DeltaStager;
import dev.kubeos.agent.delta.model.ChunkIndex;
import dev.kubeos.agent.disk.DiskLayout;
import dev.kubeos.agent.health.HealthChecker;
import dev.kubeos.agent.health.HealthReport;
import dev.kubeos.agent.model.AgentState;
import dev.kubeos.agent.model.BootState;
import dev.kubeos.agent.model.NodeView;
import dev.kubeos.agent.model.Sha256;
import dev.kubeos.agent.payload.RangeSources;
import dev.kubeos.agent.port.BlockDevice;
import dev.kubeos.agent.port.CommandRunner;
import dev.kubeos.agent.port.DamagedCacheException;
import dev.kubeos.agent.port.DiskOpener;
import dev.kubeos.agent.port.ImageOpener;
import dev.kubeos.agent.port.OperationLock;
import dev.kubeos.agent.port.PayloadOpener;
import dev.kubeos.agent.port.PayloadSource;
import dev.kubeos.agent.port.RangeSource;
import dev.kubeos.agent.port.RawArtifact;
import dev.kubeos.agent.port.Rebooter;
import dev.kubeos.agent.port.StateStore;
import dev.kubeos.agent.port.TarPayload;
import dev.kubeos.agent.settings.SettingsEngine;
import dev.kubeos.agent.settings.SettingsResult;
import dev.kubeos.agent.settings.model.SettingsRequest;
import dev.kubeos.agent.stage.ProgressListener;
import dev.kubeos.agent.stage.RawImageWriter;
import dev.kubeos.agent.stage.StageResult;
import dev.kubeos.agent.stage.TarRootfsWriter;
import dev.kubeos.agent.stage.WorkDirs;
import dev.kubeos.agent.trust.TrustGate;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.AgentStatus;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.api.agent.Slot;
import dev.kubeos.api.agent.SlotState;
import dev.kubeos.api.agent.SlotStatus;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The host agent: moves a node between OS versions through its A/B root slots without ever leaving
 * it unbootable. Each public method is one operation and reads as its list of steps; the rules
 * (which slot, which transitions are allowed) live in {@link NodeView}.
 *
 * <p>Safety invariant: at every instant (including after a crash at any line), the slot the
 * bootloader will start next is a slot whose content is verified: the booted one, the committed
 * default, or a verified staged slot armed as a boot-once trial.
 */
public final class Agent {
  private static final System.Logger LOG = System.getLogger("kubeos.agent");

  private final Deps deps;

  /**
   * The ports the agent works through.
   *
   * @param disk the node's disk
   * @param bootEnv the bootloader environment on the ESP
   * @param stateStore the agent's slot records on PERSIST
   * @param lock exclusivity of mutating operations
   * @param bootedSlot slot the running system was booted from
   * @param clock time source
   * @param rebooter restarts the node
   * @param commands host tools (mkfs.ext4, health commands)
   * @param payloads resolves payload URLs
   * @param workDir scratch space on PERSIST for tar extraction
   * @param health post-boot checks
   * @param settings node settings (sysctl, kernel command line, kubelet, containerd, PAM limits)
   * @param trust the node's trust policy for payloads (signatures)
   * @param images resolves container images into their {@code /os.tar}; null = not supported
   */
  public record Deps(
      DiskOpener disk,
      BootEnv bootEnv,
      StateStore stateStore,
      OperationLock lock,
      Slot bootedSlot,
      Clock clock,
      Rebooter rebooter,
      CommandRunner commands,
      PayloadOpener payloads,
      Path workDir,
      HealthChecker health,
      SettingsEngine settings,
      TrustGate trust,
      ImageOpener images) {}

  public Agent(Deps deps) {
    this.deps = deps;
  }

  /**
   * Sets up boot env and agent state for a disk whose booted slot already holds {@code version}.
   */
  public AgentStatus init(String version, String sha256) {
    requireVersion(version);
    String digest = sha256 == null ? null : Sha256.parse(sha256).hex();
    try (OperationLock.Held held = deps.lock().acquire("init")) {
      readLayout();
      Slot booted = deps.bootedSlot();
      if (bootEnv().read().isPresent()) {
        throw new AgentException(
            PRECONDITION_FAILED,
            "the boot environment under the boot dir is already initialised (default slot "
                + bootEnv().read().get().defaultSlot()
                + "); init only sets up a fresh image");
      }
      AgentState state =
          AgentState.empty()
              .withSlot(
                  booted,
                  new SlotStatus(version, digest, SlotState.VERIFIED, deps.clock().instant()));
      save(state);
      bootEnv().initialize(booted);
      log("init: slot %s holds %s; boot env and state created", booted, version);
    } catch (IOException e) {
      throw ioError("init", e);
    }
    return status();
  }

  /** Where the node runs, where it boots next and what each slot holds. Changes nothing. */
  public AgentStatus status() {
    try {
      NodeView view = view();
      return view.toStatus(bootEnv().nextBoot().slot(), deps.clock().instant());
    } catch (IOException e) {
      throw ioError("status", e);
    }
  }

  /** Writes a payload into the inactive slot and records it verified. */
  public StageResult stage(StageRequest request, ProgressListener progress) {
    requireVersion(request.version());
    Sha256 expected = Sha256.parse(request.sha256());
    try (OperationLock.Held held = deps.lock().acquire("stage " + request.version())) {
      NodeView view = reconcile();
      Slot target = view.inactive();
      refuseIfTrialBoot(view, "stage");
      if (view.boot().defaultSlot() == target) {
        throw new AgentException(
            PRECONDITION_FAILED,
            "slot "
                + target
                + " is the committed default (a rollback to it is pending); staging over it could"
                + " leave the node without a bootable slot. Reboot into slot "
                + target
                + " first, or run 'kubeos agent rollback' again to undo the pending rollback.");
      }
      boolean image = request.format() == StageRequest.Format.IMAGE;
      PayloadSource source = image ? null : deps.payloads().open(request.url(), request.fetch());
      // signatures are checked before the disk is opened: a refused payload writes nothing
      log("stage %s: %s", request.version(), deps.trust().check(request));
      log(
          "stage %s: %s -> slot %s (%s)",
          request.version(),
          image ? "image " + request.image() : source.describe(),
          target,
          request.format());
      // Everything before the first write leaves the node exactly as it was. The guard marks the
      // slot STAGING (not bootable) and disarms a trial of it right before the first byte lands.
      AtomicBoolean touched = new AtomicBoolean();
      Runnable beforeFirstWrite = () -> markStaging(view, target, request, touched);
      StageResult result;
      try (BlockDevice disk = deps.disk().open(true)) {
        DiskLayout layout = DiskLayout.read(disk, deps.disk().name());
        try {
          result =
              write(request, expected, source, disk, layout, target, beforeFirstWrite, progress);
        } catch (DamagedCacheException e) {
          // the damaged file is gone; the same stage once more fetches the blob from its source
          log(
              "stage %s: %s; staging again, fetching it from its source",
              request.version(), e.getMessage());
          result =
              write(request, expected, source, disk, layout, target, beforeFirstWrite, progress);
        }
      } catch (RuntimeException | IOException e) {
        if (touched.get()) {
          markFailedStage(target, request, e);
        }
        if (e instanceof IOException) {
          throw ioError("stage", (IOException) e);
        }
        if (e instanceof UncheckedIOException) {
          throw ioError("stage", ((UncheckedIOException) e).getCause());
        }
        throw (RuntimeException) e;
      }
      AgentState state =
          loadState()
              .withSlot(
                  target,
                  new SlotStatus(
                      request.version(),
                      result.actual().hex(),
                      SlotState.VERIFIED,
                      deps.clock().instant()));
      save(state);
      log(
          "stage %s: slot %s verified (%d bytes, read-back %s, %d resumes, %s)",
          request.version(),
          target,
          result.bytes(),
          result.readBackUncached() ? "from the device" : "through the page cache",
          result.resumes(),
          result.elapsed());
      return result;
    } catch (IOException e) {
      throw ioError("stage", e);
    }
  }

  private StageResult write(
      StageRequest request,
      Sha256 expected,
      PayloadSource source,
      BlockDevice disk,
      DiskLayout layout,
      Slot target,
      Runnable beforeFirstWrite,
      ProgressListener progress)
      throws IOException {
    switch (request.format()) {
      case RAW:
        try (BlockDevice slot =
            new FirstWriteGuard(layout.openSlot(disk, target), beforeFirstWrite)) {
          return new RawImageWriter().write(source, expected, slot, progress);
        }
      case DELTA:
        return stageDelta(
            request, expected, source, disk, layout, target, beforeFirstWrite, progress);
      case TAR:
        try (TarPayload payload = TarRootfsWriter.digested(source, expected)) {
          return writeTar(payload, layout, target, beforeFirstWrite, progress);
        }
      case IMAGE:
        return writeImage(request, expected, disk, layout, target, beforeFirstWrite, progress);
      default:
        throw new AgentException(INVALID_REQUEST, "unknown format " + request.format());
    }
  }

  /**
   * The image's /os.tar, laid into the slot like a tar payload once every digest matched; or, for a
   * KubeOS OS artifact, its raw image ({@link #writeArtifact}).
   */
  private StageResult writeImage(
      StageRequest request,
      Sha256 expected,
      BlockDevice disk,
      DiskLayout layout,
      Slot target,
      Runnable beforeFirstWrite,
      ProgressListener progress)
      throws IOException {
    if (deps.images() == null) {
      throw new AgentException(
          ErrorCode.UNSUPPORTED, "this agent was built without container-image payloads");
    }
    // manifest digest checked here, before any blob is fetched or anything is written
    ImageOpener.ResolvedImage resolved =
        deps.images().resolve(request.image(), expected, request.fetch());
    if (resolved.raw() != null) {
      return writeArtifact(
          request, expected, resolved.raw(), disk, layout, target, beforeFirstWrite, progress);
    }
    try (TarPayload payload = resolved.osTar()) {
      return writeTar(payload, layout, target, beforeFirstWrite, progress);
    }
  }

  /**
   * Lays a tar payload (a rootfs tarball or an image's /os.tar) into the slot with {@code mkfs.ext4
   * -d} once it is verified. The work dir is the agent's own scratch space: what a killed earlier
   * stage left there goes first.
   */
  private StageResult writeTar(
      TarPayload payload,
      DiskLayout layout,
      Slot target,
      Runnable beforeFirstWrite,
      ProgressListener progress)
      throws IOException {
    Path diskPath =
        deps.disk()
            .path()
            .orElseThrow(
                () ->
                    new AgentException(
                        ErrorCode.UNSUPPORTED,
                        "tar and container-image payloads need a disk path for mkfs.ext4"));
    CommandRunner guarded = FirstWriteGuard.commands(deps.commands(), beforeFirstWrite);
    WorkDirs.deleteRecursively(deps.workDir());
    return new TarRootfsWriter(guarded)
        .write(
            payload,
            diskPath,
            layout.slotOffset(target),
            layout.slotSize(target),
            target.partitionName(),
            deps.workDir(),
            progress);
  }

  /**
   * A KubeOS OS artifact: with a chunk index, only the chunks the node lacks are fetched by Range
   * from the raw image blob (the booted slot is the seed); without one, the raw image streams into
   * the slot. Either way the slot is verified against the image digest the manifest names, and the
   * slot is recorded with the artifact's manifest digest (the request's checksum).
   */
  private StageResult writeArtifact(
      StageRequest request,
      Sha256 expected,
      RawArtifact artifact,
      BlockDevice disk,
      DiskLayout layout,
      Slot target,
      Runnable beforeFirstWrite,
      ProgressListener progress)
      throws IOException {
    Optional<PayloadSource> indexSource = artifact.chunkIndex();
    if (indexSource.isEmpty()) {
      StageResult r;
      try (BlockDevice slot =
          new FirstWriteGuard(layout.openSlot(disk, target), beforeFirstWrite)) {
        r = new RawImageWriter().write(artifact.image(), artifact.imageSha256(), slot, progress);
      }
      log(
          "stage %s: %s staged whole (image %s, %d bytes, %d downloaded)",
          request.version(), artifact.describe(), r.actual(), r.bytes(), artifact.downloaded());
      return new StageResult(
          r.bytes(),
          expected,
          r.readBackUncached(),
          r.elapsed(),
          r.resumes(),
          artifact.downloaded());
    }
    // the index is read (and checked against the image digest) before the slot is opened
    ChunkIndex index = DeltaStager.loadIndex(indexSource.get(), artifact.imageSha256());
    long indexBytes = artifact.downloaded();
    try (BlockDevice seed = layout.openSlot(disk, deps.bootedSlot());
        BlockDevice slot = new FirstWriteGuard(layout.openSlot(disk, target), beforeFirstWrite)) {
      DeltaStager.Result r =
          new DeltaStager().stage(index, artifact.ranges(), seed, slot, progress);
      long fetched = r.fetchedBytes() + indexBytes;
      log(
          "stage %s: delta from %s fetched %d of %d bytes (%.1f%%, index %d) in %d ranges; %d"
              + " copied from slot %s, %d already in place, %d zero",
          request.version(),
          artifact.describe(),
          fetched,
          r.imageBytes(),
          100.0 * fetched / Math.max(1, r.imageBytes()),
          indexBytes,
          r.plan().ranges(),
          r.plan().copyBytes(),
          deps.bootedSlot(),
          r.plan().inPlaceBytes(),
          r.plan().zeroBytes());
      return new StageResult(
          r.imageBytes(), expected, r.readBackUncached(), r.elapsed(), r.resumes(), fetched);
    }
  }

  /** The chunk index at the request URL names the image; the booted slot is the seed. */
  private StageResult stageDelta(
      StageRequest request,
      Sha256 expected,
      PayloadSource indexSource,
      BlockDevice disk,
      DiskLayout layout,
      Slot target,
      Runnable beforeFirstWrite,
      ProgressListener progress)
      throws IOException {
    ChunkIndex index = DeltaStager.loadIndex(indexSource, expected);
    RangeSource image =
        RangeSources.open(DeltaImages.imageUrl(request.url(), index), request.fetch());
    try (BlockDevice seed = layout.openSlot(disk, deps.bootedSlot());
        BlockDevice slot = new FirstWriteGuard(layout.openSlot(disk, target), beforeFirstWrite)) {
      DeltaStager.Result r = new DeltaStager().stage(index, image, seed, slot, progress);
      log(
          "stage %s: delta fetched %d of %d bytes (%.1f%%) in %d ranges; %d copied from slot %s,"
              + " %d already in place, %d zero",
          request.version(),
          r.fetchedBytes(),
          r.imageBytes(),
          100.0 * r.fetchedBytes() / Math.max(1, r.imageBytes()),
          r.plan().ranges(),
          r.plan().copyBytes(),
          deps.bootedSlot(),
          r.plan().inPlaceBytes(),
          r.plan().zeroBytes());
      return new StageResult(
          r.imageBytes(),
          r.imageSha256(),
          r.readBackUncached(),
          r.elapsed(),
          r.resumes(),
          r.fetchedBytes());
    }
  }

  private void markStaging(
      NodeView view, Slot target, StageRequest request, AtomicBoolean touched) {
    try {
      BootState boot = bootEnv().read().orElseThrow();
      if (boot.trialSlot() == target) {
        bootEnv().write(boot.withoutTrial());
        log("stage %s: disarmed the pending trial of slot %s", request.version(), target);
      }
      save(
          loadState()
              .withSlot(
                  target,
                  new SlotStatus(
                      request.version(), null, SlotState.STAGING, deps.clock().instant())));
      touched.set(true);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void markFailedStage(Slot target, StageRequest request, Exception cause) {
    try {
      save(
          loadState()
              .withSlot(
                  target, new SlotStatus(null, null, SlotState.EMPTY, deps.clock().instant())));
      log(
          "stage %s: failed after writing into slot %s, slot marked EMPTY: %s",
          request.version(), target, cause.getMessage());
    } catch (IOException | RuntimeException e) {
      // The slot stays STAGING on disk, which is just as unbootable; the original error matters.
      cause.addSuppressed(e);
    }
  }

  /** Arms a boot-once trial of the verified staged slot; the next boot starts it. */
  public AgentStatus activate() {
    try (OperationLock.Held held = deps.lock().acquire("activate")) {
      NodeView view = reconcile();
      Slot target = view.inactive();
      refuseIfTrialBoot(view, "activate");
      SlotStatus staged = view.state().slot(target);
      if (staged.state() != SlotState.VERIFIED) {
        throw new AgentException(
            PRECONDITION_FAILED,
            "nothing verified is staged in slot "
                + target
                + " (state "
                + staged.state()
                + "); run 'kubeos agent stage' first");
      }
      if (view.boot().defaultSlot() == target) {
        throw new AgentException(
            PRECONDITION_FAILED,
            "slot " + target + " is already the committed default; the next boot starts it");
      }
      BootState armed = view.boot().withTrial(target, view.boot().seq() + 1);
      bootEnv().write(armed);
      log("activate: boot-once trial of slot %s (%s) armed", target, staged.version());
    } catch (IOException e) {
      throw ioError("activate", e);
    }
    return status();
  }

  /** Makes the booted trial slot the committed default. */
  public AgentStatus commit() {
    try (OperationLock.Held held = deps.lock().acquire("commit")) {
      NodeView view = reconcile();
      Slot booted = view.booted();
      if (!view.trialBoot() || view.state().slot(booted).state() != SlotState.VERIFIED) {
        throw new AgentException(
            PRECONDITION_FAILED,
            "the booted slot "
                + booted
                + " is not a verified trial boot (default "
                + view.boot().defaultSlot()
                + ", trial "
                + (view.boot().trialSlot() == null ? "none" : view.boot().trialSlot())
                + "); nothing to commit");
      }
      bootEnv().write(view.boot().withDefault(booted).withoutTrial());
      save(view.state().withLastFailure(null));
      log("commit: slot %s (%s) is the default now", booted, view.state().slot(booted).version());
    } catch (IOException e) {
      throw ioError("commit", e);
    }
    return status();
  }

  /** Makes the other slot the default, when it holds a verified image that has not failed. */
  public AgentStatus rollback() {
    try (OperationLock.Held held = deps.lock().acquire("rollback")) {
      NodeView view = reconcile();
      Slot other = view.inactive();
      SlotStatus target = view.state().slot(other);
      if (target.state() != SlotState.VERIFIED) {
        throw new AgentException(
            PRECONDITION_FAILED,
            "cannot roll back to slot "
                + other
                + ": it is "
                + target.state()
                + (target.state() == SlotState.FAILED_TRIAL
                    ? " (" + target.version() + " failed its trial boot)"
                    : "")
                + "; only a verified slot that has not failed a trial can become the default");
      }
      bootEnv().write(view.boot().withDefault(other).withoutTrial());
      log("rollback: slot %s (%s) is the default from the next boot", other, target.version());
    } catch (IOException e) {
      throw ioError("rollback", e);
    }
    return status();
  }

  /**
   * Runs the post-boot health checks. On a trial boot: pass commits, failure records the failed
   * trial and reboots into the default slot. On other boots it only reports.
   */
  public HealthReport health(boolean rebootOnFailure) {
    NodeView view;
    try (OperationLock.Held held = deps.lock().acquire("health")) {
      view = reconcile();
    } catch (IOException e) {
      throw ioError("health", e);
    }
    HealthReport report = deps.health().run();
    log("health: %s", report.summary());
    if (!view.trialBoot()) {
      return report;
    }
    if (report.passed()) {
      commit();
      return report;
    }
    try (OperationLock.Held held = deps.lock().acquire("health fallback")) {
      NodeView now = view();
      Slot booted = now.booted();
      save(
          now.state()
              .withSlotState(booted, SlotState.FAILED_TRIAL, deps.clock().instant())
              .withLastFailure(
                  "trial boot of slot "
                      + booted
                      + " ("
                      + now.state().slot(booted).version()
                      + ") failed its health check: "
                      + report.summary()));
      bootEnv().write(now.boot().withoutTrial());
      log(
          "health: trial of slot %s failed, falling back to slot %s",
          booted, now.boot().defaultSlot());
      if (rebootOnFailure) {
        deps.rebooter().reboot("trial boot failed its health check");
      }
    } catch (IOException e) {
      throw ioError("health", e);
    }
    return report;
  }

  /**
   * Applies node settings all-or-nothing (see {@link SettingsEngine}); with {@code dryRun} only
   * validates and reports the diff. Applying the same request again changes nothing.
   */
  public SettingsResult configure(SettingsRequest request, boolean dryRun) {
    requireVersion(request.version());
    try (OperationLock.Held held = deps.lock().acquire("configure " + request.version())) {
      SettingsResult result = settings().apply(request, dryRun);
      log(
          "configure %s: %s",
          request.version(), dryRun ? "dry run" : result.changed() ? "applied" : "no change");
      return result;
    }
  }

  /** Restores the settings as they were before {@code version} was applied. */
  public SettingsResult revertSettings(String version, boolean dryRun) {
    requireVersion(version);
    try (OperationLock.Held held = deps.lock().acquire("configure --revert " + version)) {
      SettingsResult result = settings().revert(version, dryRun);
      log("configure --revert %s: %s", version, dryRun ? "dry run" : "reverted");
      return result;
    }
  }

  private SettingsEngine settings() {
    if (deps.settings() == null) {
      throw new AgentException(
          ErrorCode.UNSUPPORTED, "this agent was built without the settings engine");
    }
    return deps.settings();
  }

  /** Reads everything and records a failed trial GRUB reported, if any (needs the lock). */
  private NodeView reconcile() throws IOException {
    NodeView view = view();
    AgentState recorded = view.stateWithFailureRecorded(deps.clock().instant());
    if (view.failedTrial().isPresent()) {
      save(recorded);
      BootState cleared = bootEnv().write(view.boot().withoutTrial());
      log("%s", recorded.lastFailure());
      return new NodeView(view.booted(), cleared, view.triedTrialId(), recorded);
    }
    return view;
  }

  private NodeView view() throws IOException {
    BootState boot =
        bootEnv()
            .read()
            .orElseThrow(
                () ->
                    new AgentException(
                        PRECONDITION_FAILED,
                        "no valid boot environment under the boot dir: the node was not set up"
                            + " with 'kubeos agent init' (or the image builder)"));
    return new NodeView(deps.bootedSlot(), boot, bootEnv().triedTrialId(), loadState());
  }

  private void refuseIfTrialBoot(NodeView view, String operation) {
    if (view.trialBoot()) {
      throw new AgentException(
          PRECONDITION_FAILED,
          "the node runs an uncommitted trial of slot "
              + view.booted()
              + "; "
              + operation
              + " would touch its fallback slot "
              + view.inactive()
              + ". Commit the trial ('kubeos agent commit' or health) or reboot to fall back first.");
    }
  }

  private void readLayout() throws IOException {
    try (BlockDevice disk = deps.disk().open(false)) {
      DiskLayout.read(disk, deps.disk().name());
    }
  }

  private AgentState loadState() throws IOException {
    return deps.stateStore().load().orElse(AgentState.empty());
  }

  private void save(AgentState state) throws IOException {
    deps.stateStore().save(state);
  }

  private BootEnv bootEnv() {
    return deps.bootEnv();
  }

  private static void requireVersion(String version) {
    dev.kubeos.agent.settings.Versions.require(version);
  }

  private static AgentException ioError(String operation, IOException e) {
    return new AgentException(IO_ERROR, operation + " failed: " + e.getMessage(), e);
  }

  private static void log(String format, Object... args) {
    LOG.log(System.Logger.Level.INFO, String.format(format, args));
  }
}
