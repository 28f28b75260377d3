package dev.kubeos.agent.etc;

import dev.kubeos.agent.etc.model.EtcConflict;
import dev.kubeos.agent.etc.model.EtcEntry;
import dev.kubeos.agent.etc.model.EtcMergePlan;
import dev.kubeos.agent.etc.model.EtcMergePlanner;
import dev.kubeos.agent.port.EtcCarrier;
import dev.kubeos.agent.state.AtomicFiles;
import dev.kubeos.api.Json;
import dev.kubeos.api.agent.EtcMergeStatus;
import dev.kubeos.api.agent.Slot;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The real {@link EtcCarrier}: reads the three /etc trees, plans the merge ({@link
 * EtcMergePlanner}), writes the target slot's new upper dir as a new generation ({@link
 * EtcUpperWriter}), switches the slot's link to it ({@link EtcSlotDirs}) and records the report.
 * The running slot's upper dir is never written.
 */
public final class EtcMerge implements EtcCarrier {
  private static final System.Logger LOG = System.getLogger("kubeos.agent");

  /**
   * The initramfs hook of an image that mounts per-slot upper dirs says so in this line; an image
   * without it mounts the shared upper dir, which the running slot uses, so nothing is merged.
   */
  public static final String HOOK = "initramfs-tools/scripts/init-bottom/kubeos-overlay";

  public static final String PER_SLOT_MARKER = "kubeos-etc-layout: per-slot";

  /** The note of a {@link #preview}. */
  public static final String DRY_RUN = "dry run: nothing written";

  /** Where the three trees come from. */
  public interface Views {
    /** Makes the trees readable (mounts on a node); close undoes that. */
    Opened open(Slot from, Slot to) throws IOException;
  }

  /**
   * The three trees of one merge.
   *
   * @param base the running version's own /etc (the overlay's lower dir)
   * @param ours the node's /etc as it sees it (the overlay)
   * @param theirs the new version's own /etc
   */
  public record Opened(Path base, Path ours, Path theirs, Closer closer) implements AutoCloseable {
    @Override
    public void close() throws IOException {
      closer.close();
    }
  }

  /** Undoes what {@link Views#open} did. */
  @FunctionalInterface
  public interface Closer {
    void close() throws IOException;
  }

  private final Views views;
  private final EtcSlotDirs dirs;
  private final Path reportFile;
  private final EtcUpperWriter writer;
  private final Clock clock;

  public EtcMerge(
      Views views, EtcSlotDirs dirs, Path reportFile, EtcUpperWriter writer, Clock clock) {
    this.views = views;
    this.dirs = dirs;
    this.reportFile = reportFile;
    this.writer = writer;
    this.clock = clock;
  }

  /** The report file under the agent's state dir. */
  public static Path reportFile(Path stateDir) {
    return stateDir.resolve("etc-merge.json");
  }

  @Override
  public EtcMergeStatus carry(Slot from, Slot to, String toVersion) throws IOException {
    EtcMergeStatus report;
    try (Opened v = views.open(from, to)) {
      report = merge(v, from, to, toVersion, true);
    }
    AtomicFiles.write(reportFile, Json.mapper().writeValueAsBytes(report));
    LOG.log(System.Logger.Level.INFO, summary(report));
    for (String c : report.conflicts()) {
      LOG.log(System.Logger.Level.WARNING, "/etc merge conflict for slot " + to + ": " + c);
    }
    return report;
  }

  @Override
  public EtcMergeStatus preview(Slot from, Slot to, String toVersion) throws IOException {
    try (Opened v = views.open(from, to)) {
      return merge(v, from, to, toVersion, false);
    }
  }

  private EtcMergeStatus merge(Opened v, Slot from, Slot to, String toVersion, boolean write)
      throws IOException {
    if (!perSlotLayout(v.theirs())) {
      return new EtcMergeStatus(
          from,
          to,
          toVersion,
          clock.instant(),
          null,
          List.of(),
          List.of(),
          0,
          "the version in slot "
              + to
              + " mounts the shared /persist/etc/upper (its initramfs hook predates per-slot"
              + " /etc); its files shadow the new version's as before, nothing was merged");
    }
    // what is mounted below the node's /etc is not the overlay's: left out of all three trees, so
    // the new version's files there show (and the mount covers them again)
    Set<String> mounts = new TreeSet<>();
    NavigableMap<String, EtcEntry> ours = EtcTrees.scan(v.ours(), mounts);
    EtcMergePlan plan =
        EtcMergePlanner.plan(
            EtcTrees.without(EtcTrees.scan(v.base()), mounts),
            ours,
            EtcTrees.without(EtcTrees.scan(v.theirs()), mounts));
    if (!mounts.isEmpty()) {
      LOG.log(
          System.Logger.Level.INFO,
          "/etc merge: left out mount points below /etc: " + String.join(", ", mounts));
    }
    List<String> conflicts = plan.conflicts().stream().map(EtcConflict::toString).toList();
    List<String> kept = plan.nodePaths().stream().map(p -> "/etc/" + p).toList();
    if (!write) {
      return new EtcMergeStatus(
          from,
          to,
          toVersion,
          clock.instant(),
          null,
          kept,
          conflicts,
          plan.fromNewVersion().size(),
          DRY_RUN);
    }
    Path gen = dirs.newGeneration(to);
    Path upper = gen.resolve("upper");
    writer.write(plan, v.ours(), v.theirs(), upper);
    Files.createDirectory(gen.resolve("work"));
    AtomicFiles.write(
        gen.resolve("conflicts.txt"),
        conflicts.stream()
            .map(c -> c + "\n")
            .reduce("", String::concat)
            .getBytes(StandardCharsets.UTF_8));
    EtcUpperWriter.syncTree(gen);
    dirs.switchTo(to, gen);
    return new EtcMergeStatus(
        from,
        to,
        toVersion,
        clock.instant(),
        dirs.root().resolve(to.name()).resolve("upper").toString(),
        kept,
        conflicts,
        plan.fromNewVersion().size(),
        null);
  }

  @Override
  public Optional<EtcMergeStatus> lastReport() throws IOException {
    if (!Files.exists(reportFile)) {
      return Optional.empty();
    }
    return Optional.of(Json.mapper().readValue(reportFile.toFile(), EtcMergeStatus.class));
  }

  static boolean perSlotLayout(Path theirsEtc) throws IOException {
    Path hook = theirsEtc.resolve(HOOK);
    return Files.isRegularFile(hook)
        && Files.readString(hook, StandardCharsets.UTF_8).contains(PER_SLOT_MARKER);
  }

  /** One line for logs and the CLI. */
  public static String summary(EtcMergeStatus r) {
    boolean merged = r.upperDir() != null || DRY_RUN.equals(r.note());
    if (!merged) {
      return "/etc for slot " + r.toSlot() + ": " + r.note();
    }
    return String.format(
        "/etc for slot %s (%s) %s from slot %s: %d node entries kept, %d from the new version,"
            + " %d conflicts%s",
        r.toSlot(),
        r.toVersion(),
        r.upperDir() != null ? "merged" : "would be merged (dry run, nothing written)",
        r.fromSlot(),
        r.kept().size(),
        r.fromNewVersion(),
        r.conflicts().size(),
        r.conflicts().isEmpty() ? "" : " (node's kept): " + String.join("; ", r.conflicts()));
  }
}
