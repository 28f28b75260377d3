package dev.kubeos.agent;

import static dev.kubeos.agent.Preconditions.requireActivatable;
import static dev.kubeos.agent.Preconditions.requireCommittable;
import static dev.kubeos.agent.Preconditions.requireNoBootEnv;
import static dev.kubeos.agent.Preconditions.requireRollbackTarget;
import static dev.kubeos.agent.Preconditions.requireStageTarget;
import static dev.kubeos.agent.Preconditions.requireVersion;

import dev.kubeos.agent.boot.BootEnv;
import dev.kubeos.agent.disk.DiskLayout;
import dev.kubeos.agent.etc.EtcMerge;
import dev.kubeos.agent.health.HealthChecker;
import dev.kubeos.agent.health.HealthReport;
import dev.kubeos.agent.model.AgentState;
import dev.kubeos.agent.model.NodeView;
import dev.kubeos.agent.port.BlockDevice;
import dev.kubeos.agent.port.CommandRunner;
import dev.kubeos.agent.port.DiskOpener;
import dev.kubeos.agent.port.EtcCarrier;
import dev.kubeos.agent.port.ImageOpener;
import dev.kubeos.agent.port.OperationLock;
import dev.kubeos.agent.port.PayloadOpener;
import dev.kubeos.agent.port.Rebooter;
import dev.kubeos.agent.port.StateStore;
import dev.kubeos.agent.settings.SettingsEngine;
import dev.kubeos.agent.settings.SettingsResult;
import dev.kubeos.agent.settings.model.SettingsRequest;
import dev.kubeos.agent.stage.PayloadWriters;
import dev.kubeos.agent.stage.ProgressListener;
import dev.kubeos.agent.stage.ResolvedPayload;
import dev.kubeos.agent.stage.SlotStager;
import dev.kubeos.agent.stage.StageResult;
import dev.kubeos.agent.state.NodeRecords;
import dev.kubeos.agent.trust.TrustGate;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.AgentStatus;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.api.agent.EtcMergeStatus;
import dev.kubeos.api.agent.IoFailure;
import dev.kubeos.api.agent.Slot;
import dev.kubeos.api.agent.SlotState;
import dev.kubeos.api.agent.SlotStatus;
import dev.kubeos.formats.digest.Sha256;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;

/**
 * The host agent: moves a node between OS versions through its A/B root slots without ever leaving
 * it unbootable. Each public method is one operation and reads as its list of steps; the rules
 * (which slot, which transitions are allowed) live in {@link NodeView} and {@link Preconditions}, a
 * stage's payload is resolved by {@link PayloadResolver} and written by {@link SlotStager}.
 *
 * <p>Safety invariant: at every instant (including after a crash at any line), the slot the
 * bootloader will start next is a slot whose content is verified: the booted one, the committed
 * default, or a verified staged slot armed as a boot-once trial.
 */
public final class Agent {
  private static final System.Logger LOG = System.getLogger("kubeos.agent");

  private final Deps deps;
  private final NodeRecords records;
  private final PayloadResolver payloads;
  private final SlotStager stager;
  private final EtcCarrier etc;

  /**
   * The last stage this agent completed, with the target slot's record right after it: a daemon's
   * memory only, so a new process stages afresh. An identical request while the record is unchanged
   * is answered without staging again (a proxy restarted mid-stage asks again once the first stage
   * is done; that would hash and write the whole slot a second time).
   */
  private record Staged(StageRequest request, Slot slot, SlotStatus record) {}

  private volatile Staged lastStaged;

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
    this(deps, EtcCarrier.NONE);
  }

  /**
   * An agent that carries the node's /etc to the other slot before it boots (activate, rollback).
   */
  public Agent(Deps deps, EtcCarrier etc) {
    this.deps = deps;
    this.etc = etc;
    this.records =
        new NodeRecords(deps.bootEnv(), deps.stateStore(), deps.bootedSlot(), deps.clock());
    this.payloads = new PayloadResolver(deps.payloads());
    PayloadWriters writers =
        new PayloadWriters(deps.disk(), deps.commands(), deps.workDir(), deps.images());
    this.stager = new SlotStager(deps.disk(), deps.bootedSlot(), records, writers);
  }

  /**
   * Sets up boot env and agent state for a disk whose booted slot already holds {@code version}.
   */
  public AgentStatus init(String version, String sha256) {
    requireVersion(version);
    String digest = sha256 == null ? null : Sha256.parse(sha256).hex();
    locked("init", () -> recordBootedSlot(version, digest));
    return status();
  }

  /** Where the node runs, where it boots next and what each slot holds. Changes nothing. */
  public AgentStatus status() {
    try {
      AgentStatus status =
          records.view().toStatus(records.bootEnv().nextBoot().slot(), deps.clock().instant());
      return status.withEtcMerge(etc.lastReport().orElse(null));
    } catch (IOException e) {
      throw ioError("status", e);
    }
  }

  /** Writes a payload into the inactive slot and records it verified. */
  public StageResult stage(StageRequest request, ProgressListener progress) {
    requireVersion(request.version());
    Sha256 expected = Sha256.parse(request.sha256());
    return locked(
        "stage " + request.version(),
        "stage",
        () -> stageInactiveSlot(request, expected, progress));
  }

  /** Arms a boot-once trial of the verified staged slot; the next boot starts it. */
  public AgentStatus activate() {
    locked("activate", this::armTrial);
    return status();
  }

  /**
   * What the /etc merge into the other slot would keep, take from its version and report as
   * conflicts, if it ran now (activate runs it); writes nothing.
   */
  public EtcMergeStatus previewEtc() {
    return locked(
        "etc preview",
        "etc preview",
        () -> {
          NodeView view = records.view();
          Slot target = view.inactive();
          return etc.preview(view.booted(), target, view.state().slot(target).version());
        });
  }

  /** Makes the booted trial slot the committed default. */
  public AgentStatus commit() {
    locked("commit", this::commitTrial);
    return status();
  }

  /** Makes the other slot the default, when it holds a verified image that has not failed. */
  public AgentStatus rollback() {
    locked("rollback", this::makeOtherDefault);
    return status();
  }

  /**
   * Runs the post-boot health checks. On a trial boot: pass commits, failure records the failed
   * trial and reboots into the default slot. On other boots it only reports.
   */
  public HealthReport health(boolean rebootOnFailure) {
    NodeView view = locked("health", "health", records::reconcile);
    log(
        "health: checking (%s)",
        view.trialBoot() ? "a trial boot: commits when the checks pass" : "reports only");
    HealthReport report = deps.health().run();
    log("health: %s", report.summary());
    if (!view.trialBoot()) {
      return report;
    }
    if (report.passed()) {
      commit();
      return report;
    }
    return locked("health fallback", "health", () -> fallBack(report, rebootOnFailure));
  }

  private void recordBootedSlot(String version, String digest) throws IOException {
    readLayout();
    requireNoBootEnv(records.bootEnv().read());
    Slot booted = deps.bootedSlot();
    SlotStatus verified =
        new SlotStatus(version, digest, SlotState.VERIFIED, deps.clock().instant());
    records.save(AgentState.empty().withSlot(booted, verified));
    records.bootEnv().initialize(booted);
    log("init: slot %s holds %s; boot env and state created", booted, version);
  }

  private StageResult stageInactiveSlot(
      StageRequest request, Sha256 expected, ProgressListener progress) throws IOException {
    NodeView view = records.reconcile();
    Slot target = requireStageTarget(view);
    ResolvedPayload payload = payloads.resolve(request, expected);
    // signatures are checked before the disk is opened: a refused payload writes nothing
    log("stage %s: %s", request.version(), deps.trust().check(request));
    Staged last = lastStaged;
    if (last != null
        && last.request().equals(request)
        && last.slot() == target
        && last.record().equals(view.state().slot(target))
        && view.boot().trialSlot() != target) {
      log(
          "stage %s: slot %s already holds it, staged and verified by this agent at %s with the"
              + " same request; not staged again",
          request.version(), target, last.record().updatedAt());
      return StageResult.alreadyStaged(expected);
    }
    log(
        "stage %s: %s -> slot %s (%s)",
        request.version(), payload.describe(), target, request.format());
    StageResult result = stager.stage(payload, request.version(), target, progress);
    lastStaged = new Staged(request, target, records.view().state().slot(target));
    return result;
  }

  private void armTrial() throws IOException {
    NodeView view = records.reconcile();
    Slot target = requireActivatable(view);
    // before the trial is armed: a failed or interrupted merge leaves nothing that boots it
    carryEtc(view, target);
    records.bootEnv().write(view.boot().withTrial(target, view.boot().seq() + 1));
    log(
        "activate: boot-once trial of slot %s (%s) armed",
        target, view.state().slot(target).version());
  }

  private void commitTrial() throws IOException {
    NodeView view = records.reconcile();
    Slot booted = requireCommittable(view);
    records.bootEnv().write(view.boot().withDefault(booted).withoutTrial());
    records.save(view.state().withLastFailure(null));
    log("commit: slot %s (%s) is the default now", booted, view.state().slot(booted).version());
  }

  private void makeOtherDefault() throws IOException {
    NodeView view = records.reconcile();
    Slot other = requireRollbackTarget(view);
    if (view.trialBoot()) {
      // the default slot's /etc stays as it was before this uncommitted trial, like a fallback
      log("rollback: /etc of slot %s stays as before the trial", other);
    } else {
      carryEtc(view, other);
    }
    records.bootEnv().write(view.boot().withDefault(other).withoutTrial());
    log(
        "rollback: slot %s (%s) is the default from the next boot",
        other, view.state().slot(other).version());
  }

  /** Carries the node's /etc changes from the booted slot to {@code target}'s next boot. */
  private void carryEtc(NodeView view, Slot target) throws IOException {
    log(
        "%s",
        EtcMerge.summary(etc.carry(view.booted(), target, view.state().slot(target).version())));
  }

  /** Records the failed trial, disarms it and (when asked) reboots into the default slot. */
  private HealthReport fallBack(HealthReport report, boolean reboot) throws IOException {
    NodeView now = records.view();
    Slot booted = now.booted();
    records.save(
        now.state()
            .withSlotState(booted, SlotState.FAILED_TRIAL, deps.clock().instant())
            .withLastFailure(
                "trial boot of slot "
                    + booted
                    + " ("
                    + now.state().slot(booted).version()
                    + ") failed its health check: "
                    + report.summary()));
    records.bootEnv().write(now.boot().withoutTrial());
    log(
        "health: trial of slot %s failed, falling back to slot %s",
        booted, now.boot().defaultSlot());
    if (reboot) {
      deps.rebooter().reboot("trial boot failed its health check");
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

  private void readLayout() throws IOException {
    try (BlockDevice disk = deps.disk().open(false)) {
      DiskLayout.read(disk, deps.disk().name());
    }
  }

  /** One step of an operation, run under the operation lock. */
  @FunctionalInterface
  private interface LockedStep<T> {
    T run() throws IOException;
  }

  /** An operation step without a result. */
  @FunctionalInterface
  private interface LockedAction {
    void run() throws IOException;
  }

  private void locked(String operation, LockedAction action) {
    locked(
        operation,
        operation,
        () -> {
          action.run();
          return null;
        });
  }

  /**
   * Runs {@code step} holding the operation lock (as {@code holder}); an I/O failure fails {@code
   * operation}.
   */
  private <T> T locked(String holder, String operation, LockedStep<T> step) {
    try (OperationLock.Held held = deps.lock().acquire(holder)) {
      return step.run();
    } catch (IOException e) {
      throw ioError(operation, e);
    }
  }

  /** IO_ERROR (retryable), or NO_SPACE naming the disk and work dir when a write found it full. */
  private AgentException ioError(String operation, IOException e) {
    return IoFailure.of(
        operation + " failed",
        "the node's disk (" + deps.disk().name() + ", work dir " + deps.workDir() + ")",
        e);
  }

  private static void log(String format, Object... args) {
    LOG.log(System.Logger.Level.INFO, String.format(format, args));
  }
}
