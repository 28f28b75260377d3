package dev.kubeos.agent.settings;

import dev.kubeos.agent.boot.BootEnv;
import dev.kubeos.agent.model.BootState;
import dev.kubeos.agent.settings.model.Invalid;
import dev.kubeos.agent.settings.model.ModelSettings;
import dev.kubeos.agent.settings.model.SettingsRequest;
import dev.kubeos.agent.settings.model.SysctlText;
import dev.kubeos.agent.settings.model.UnifiedDiff;
import dev.kubeos.agent.settings.model.UpstreamLeniency;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.api.agent.Slot;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Applies node settings all-or-nothing: every change of a request is validated and planned before
 * anything is written; then the previous contents are recorded on PERSIST, files and /proc/sys
 * values are written in request order, and the kernel command lines last (one boot-env write). A
 * failure restores everything already written. Unchanged targets are not written at all. Every
 * change must pass the node's {@link SettingsPolicy}; entries upstream skips with a warning are
 * skipped with a warning in the result ({@link UpstreamLeniency}).
 */
public final class SettingsEngine {
  private static final System.Logger LOG = System.getLogger("kubeos.agent");

  private final Path root;
  private final BootEnv bootEnv;
  private final Slot booted;
  private final SettingsWriter writer;
  private final SettingsHistory history;
  private final Clock clock;
  private final Supplier<SettingsPolicy> policy;
  private final Map<String, SettingsModel> models = new LinkedHashMap<>();

  /**
   * @param root the file-system root every path is re-based under ("/" on a node)
   * @param stateDir the agent's state directory on PERSIST (revert records)
   * @param bootEnv the boot environment (kernel command lines); null when there is none
   * @param booted the booted slot; null when unknown (grub models then refuse)
   * @param writer how files and /proc/sys values are written
   * @param policy the node's settings policy, read at every request (so an edit of the policy file
   *     applies to the next request)
   */
  public SettingsEngine(
      Path root,
      Path stateDir,
      BootEnv bootEnv,
      Slot booted,
      SettingsWriter writer,
      Clock clock,
      Supplier<SettingsPolicy> policy) {
    this.policy = policy;
    this.root = root;
    this.bootEnv = bootEnv;
    this.booted = booted;
    this.writer = writer;
    this.history = new SettingsHistory(stateDir);
    this.clock = clock;
    for (SettingsModel m :
        List.of(
            new SysctlModel(),
            LineFileModel.sysctlPersist(),
            new GrubCmdlineModel(GrubCmdlineModel.CURRENT),
            new GrubCmdlineModel(GrubCmdlineModel.NEXT),
            StructuredModel.kubelet(),
            StructuredModel.containerd(),
            LineFileModel.pamLimits())) {
      models.put(m.name(), m);
    }
  }

  /** An engine under the compiled-in default policy. */
  public SettingsEngine(
      Path root, Path stateDir, BootEnv bootEnv, Slot booted, SettingsWriter writer, Clock clock) {
    this(root, stateDir, bootEnv, booted, writer, clock, SettingsPolicy::defaults);
  }

  /** The same engine on another root (for {@code --root}). */
  public SettingsEngine withRoot(Path newRoot, Path stateDir) {
    return new SettingsEngine(newRoot, stateDir, bootEnv, booted, writer, clock, policy);
  }

  public Path root() {
    return root;
  }

  /** Validates, plans and (unless {@code dryRun}) applies a request. */
  public SettingsResult apply(SettingsRequest request, boolean dryRun) {
    SettingsPolicy rules = policy.get();
    rules.requireUsable();
    SettingsPlan plan = new SettingsPlan(realRoot(), bootEnv, booted, rules);
    List<String> warnings = new ArrayList<>();
    for (ModelSettings m : request.configs()) {
      SettingsModel model = models.get(m.model());
      if (model == null) {
        throw Invalid.of(
            String.valueOf(m.model()), null, "unknown model (known: " + models.keySet() + ")");
      }
      UpstreamLeniency.Filtered kept = UpstreamLeniency.filter(m);
      warnings.addAll(kept.warnings());
      model.plan(kept.settings(), plan);
    }
    List<Edit> edits = plan.edits();
    if (!dryRun) {
      write(request.version(), edits, true);
    }
    warnings.forEach(w -> LOG.log(System.Logger.Level.WARNING, w));
    return result(request.version(), dryRun, edits, warnings);
  }

  /** Restores the state before settings version {@code version} (and undoes every later one). */
  public SettingsResult revert(String version, boolean dryRun) {
    SettingsPolicy rules = policy.get();
    rules.requireUsable();
    try {
      List<SettingsHistory.Stored> all = history.list();
      int from = -1;
      for (int i = all.size() - 1; i >= 0 && from < 0; i--) {
        from = all.get(i).record().version().equals(version) ? i : -1;
      }
      if (from < 0) {
        List<String> known = new ArrayList<>();
        all.forEach(s -> known.add(s.record().version()));
        throw new AgentException(
            ErrorCode.INVALID_REQUEST,
            "no applied settings version '" + version + "' is recorded (recorded: " + known + ")");
      }
      SettingsPlan plan = new SettingsPlan(realRoot(), bootEnv, booted, rules);
      Map<String, SettingsHistory.Entry> oldest = new LinkedHashMap<>();
      for (int i = all.size() - 1; i >= from; i--) {
        for (SettingsHistory.Entry e : all.get(i).record().entries()) {
          oldest.put(e.kind() + ":" + (e.slot() != null ? e.slot() : e.path()), e);
        }
      }
      for (SettingsHistory.Entry e : oldest.values()) {
        if (e.kind() == Edit.Kind.CMDLINE) {
          plan.putCmdline(e.model(), e.slot(), e.before());
        } else {
          plan.put(e.model(), e.kind(), realRoot().resolve(e.path()), e.before());
        }
      }
      List<Edit> edits = plan.edits();
      if (!dryRun) {
        write(version, edits, false);
        for (int i = all.size() - 1; i >= from; i--) {
          history.delete(all.get(i).file());
        }
      }
      return result(version, dryRun, edits, List.of());
    } catch (IOException e) {
      throw new AgentException(
          ErrorCode.IO_ERROR, "could not read the settings history: " + e.getMessage(), e);
    }
  }

  private void write(String version, List<Edit> all, boolean record) {
    List<Edit> edits = all.stream().filter(Edit::changes).toList();
    if (edits.isEmpty()) {
      return;
    }
    Path recordFile = null;
    List<Edit> done = new ArrayList<>();
    try {
      if (record) {
        List<SettingsHistory.Entry> entries = new ArrayList<>();
        for (Edit e : edits) {
          String path = e.path() == null ? null : realRoot().relativize(e.path()).toString();
          entries.add(new SettingsHistory.Entry(e.model(), e.kind(), path, e.slot(), e.before()));
        }
        recordFile = history.save(new SettingsHistory.Record(version, clock.instant(), entries));
      }
      for (Edit e : edits) {
        if (e.kind() != Edit.Kind.CMDLINE) {
          try {
            put(e, e.after());
            done.add(e);
          } catch (IOException | RuntimeException x) {
            if (!holds(e, e.before())) {
              done.add(e); // the failed write may have changed it: put it back too
            }
            throw x;
          }
        }
      }
      writeCmdlines(edits);
      LOG.log(System.Logger.Level.INFO, "settings " + version + ": " + edits.size() + " changed");
    } catch (IOException | RuntimeException e) {
      List<String> failed = restore(done);
      try {
        if (recordFile != null) {
          history.delete(recordFile);
        }
      } catch (IOException d) {
        e.addSuppressed(d);
      }
      String restored =
          failed.isEmpty()
              ? "every change already made was restored"
              : "COULD NOT RESTORE " + failed + ": check them by hand";
      throw new AgentException(
          ErrorCode.IO_ERROR,
          "settings " + version + " failed (" + e.getMessage() + "); " + restored,
          e);
    }
  }

  private Path realRoot() {
    try {
      return root.toRealPath();
    } catch (IOException e) {
      throw new AgentException(
          ErrorCode.INVALID_REQUEST,
          "settings root " + root + " does not exist: " + e.getMessage());
    }
  }

  private void writeCmdlines(List<Edit> edits) {
    Map<Slot, String> lines = new EnumMap<>(Slot.class);
    edits.stream()
        .filter(e -> e.kind() == Edit.Kind.CMDLINE)
        .forEach(e -> lines.put(e.slot(), e.after()));
    if (lines.isEmpty()) {
      return;
    }
    BootState now = bootEnv.read().orElseThrow();
    Map<Slot, String> next = new EnumMap<>(now.cmdline());
    next.putAll(lines);
    bootEnv.write(
        new BootState(now.seq(), now.defaultSlot(), now.trialSlot(), now.trialId(), next));
  }

  private void put(Edit e, String content) throws IOException {
    if (e.kind() == Edit.Kind.PROC) {
      writer.writeProc(e.path(), content);
    } else if (content == null) {
      writer.deleteFile(e.path());
    } else {
      writer.writeFile(e.path(), content);
    }
  }

  /**
   * Puts back the content before, newest first; returns the targets that could not be (a target
   * that already holds its content before counts as restored).
   */
  private List<String> restore(List<Edit> done) {
    List<String> failed = new ArrayList<>();
    for (int i = done.size() - 1; i >= 0; i--) {
      Edit e = done.get(i);
      try {
        if (!holds(e, e.before())) {
          put(e, e.before());
        }
      } catch (IOException | RuntimeException x) {
        failed.add(e.target());
      }
    }
    return failed;
  }

  /** Whether a file or /proc/sys target holds {@code content} now (null: the file is absent). */
  private static boolean holds(Edit e, String content) {
    try {
      if (e.kind() == Edit.Kind.PROC) {
        return content != null
            && SysctlText.normalize(Files.readString(e.path()))
                .equals(SysctlText.normalize(content));
      }
      if (!Files.exists(e.path(), LinkOption.NOFOLLOW_LINKS)) {
        return content == null;
      }
      return content != null
          && Files.isRegularFile(e.path())
          && Files.readString(e.path(), StandardCharsets.UTF_8).equals(content);
    } catch (IOException | RuntimeException x) {
      return false;
    }
  }

  private SettingsResult result(
      String version, boolean dryRun, List<Edit> edits, List<String> warnings) {
    List<SettingsResult.Outcome> out = new ArrayList<>();
    for (Edit e : edits) {
      String label =
          e.kind() == Edit.Kind.CMDLINE ? e.target() : "/" + realRoot().relativize(e.path());
      String before =
          e.kind() == Edit.Kind.CMDLINE && !e.before().isEmpty() ? e.before() + "\n" : e.before();
      String after =
          e.kind() == Edit.Kind.CMDLINE && !e.after().isEmpty() ? e.after() + "\n" : e.after();
      out.add(
          new SettingsResult.Outcome(
              e.model(), label, e.changes() ? UnifiedDiff.of(label, before, after) : ""));
    }
    return new SettingsResult(version, dryRun, out, warnings);
  }
}
