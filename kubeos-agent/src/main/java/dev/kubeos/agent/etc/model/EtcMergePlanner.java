package dev.kubeos.agent.etc.model;

import dev.kubeos.agent.etc.model.EtcConflict.Kind;
import dev.kubeos.agent.etc.model.EtcMergePlan.Action;
import dev.kubeos.agent.etc.model.EtcMergePlan.Step;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The three-way /etc merge (docs/boot-contract.md, "/etc across versions"). Inputs are three trees
 * of {@code relative path -> entry}: <b>base</b>, the running version's own /etc (the overlay's
 * lower dir); <b>ours</b>, what the node sees in /etc (the overlay: base plus the node's upper
 * dir); <b>theirs</b>, the new version's own /etc. The output is the upper dir to put over theirs:
 *
 * <ul>
 *   <li>an entry the node did not change (ours same as base) is not in it: theirs shows, whether
 *       the new version changed it, removed it or kept it;
 *   <li>an entry the node changed, created or deleted is the node's (a copy, a directory with the
 *       node's metadata, or a whiteout), unless theirs already equals ours;
 *   <li>when the new version changed the same entry differently, the node's stays and the path is a
 *       conflict.
 * </ul>
 *
 * A directory is compared by its own metadata; what it holds is merged entry by entry. A directory
 * the node deleted counts as changed in the new version when anything below it differs.
 */
public final class EtcMergePlanner {
  private EtcMergePlanner() {}

  public static EtcMergePlan plan(
      NavigableMap<String, EtcEntry> base,
      NavigableMap<String, EtcEntry> ours,
      NavigableMap<String, EtcEntry> theirs) {
    return new Run(base, ours, theirs).plan();
  }

  private static final class Run {
    private final NavigableMap<String, EtcEntry> base;
    private final NavigableMap<String, EtcEntry> ours;
    private final NavigableMap<String, EtcEntry> theirs;
    private final List<Step> steps = new ArrayList<>();
    private final List<EtcConflict> conflicts = new ArrayList<>();
    private final List<String> fromNew = new ArrayList<>();

    /** Paths whose subtree is settled (a non-directory or a whiteout covers it). */
    private final Set<String> settled = new HashSet<>();

    /** Directories in the upper dir already. */
    private final Set<String> emitted = new HashSet<>();

    /** Directories of ours to add, with this action, once something below them needs them. */
    private final Map<String, Action> pendingDirs = new HashMap<>();

    Run(
        NavigableMap<String, EtcEntry> base,
        NavigableMap<String, EtcEntry> ours,
        NavigableMap<String, EtcEntry> theirs) {
      this.base = base;
      this.ours = ours;
      this.theirs = theirs;
    }

    EtcMergePlan plan() {
      TreeSet<String> paths = new TreeSet<>(EtcMergePlanner::compareByPath);
      paths.addAll(base.keySet());
      paths.addAll(ours.keySet());
      paths.addAll(theirs.keySet());
      for (String p : paths) {
        if (!underSettled(p)) {
          visit(p, base.get(p), ours.get(p), theirs.get(p));
        }
      }
      return new EtcMergePlan(steps, conflicts, fromNew);
    }

    private void visit(String p, EtcEntry b, EtcEntry o, EtcEntry t) {
      if (o == null) {
        settled.add(p);
        if (b != null && t != null) {
          // the node deleted p, the new version still ships it: it stays deleted
          if (!sameSubtree(p)) {
            conflicts.add(new EtcConflict(p, Kind.DELETED_HERE_CHANGED_THERE));
          }
          emit(Action.WHITEOUT, p);
        } else if (b == null && t != null) {
          fromNew.add(p);
        }
        return;
      }
      if (!o.isDir()) {
        settled.add(p);
      }
      boolean nodeChanged = b == null || !o.sameAs(b);
      if (!nodeChanged) {
        if (t == null || !t.sameAs(b)) {
          fromNew.add(p);
        }
        if (o.isDir()) {
          pendingDirs.put(p, t != null && t.isDir() ? Action.DIR_FROM_NEW : Action.DIR_FROM_NODE);
        }
        return;
      }
      if (o.sameAs(t)) {
        // both made the same change: the new version's entry shows
        if (o.isDir()) {
          pendingDirs.put(p, Action.DIR_FROM_NEW);
        }
        return;
      }
      Kind conflict = null;
      if (b == null && t != null) {
        conflict = Kind.BOTH_CREATED;
      } else if (b != null && t == null) {
        conflict = Kind.CHANGED_HERE_REMOVED_THERE;
      } else if (b != null && !t.sameAs(b)) {
        conflict = Kind.BOTH_CHANGED;
      }
      if (conflict != null) {
        conflicts.add(new EtcConflict(p, conflict));
      }
      emit(o.isDir() ? Action.DIR_FROM_NODE : Action.COPY_FROM_NODE, p);
    }

    /** Adds a step after the directories that hold it. */
    private void emit(Action action, String p) {
      int slash = p.lastIndexOf('/');
      if (slash > 0) {
        ensureDir(p.substring(0, slash));
      }
      steps.add(new Step(action, p));
      if (action == Action.DIR_FROM_NODE || action == Action.DIR_FROM_NEW) {
        emitted.add(p);
      }
    }

    private void ensureDir(String dir) {
      if (emitted.contains(dir)) {
        return;
      }
      Action action = Objects.requireNonNull(pendingDirs.get(dir), dir);
      emit(action, dir);
    }

    private boolean underSettled(String p) {
      for (int i = p.lastIndexOf('/'); i > 0; i = p.lastIndexOf('/', i - 1)) {
        if (settled.contains(p.substring(0, i))) {
          return true;
        }
      }
      return false;
    }

    /** Whether base and theirs agree on p and everything below it. */
    private boolean sameSubtree(String p) {
      if (!base.get(p).sameAs(theirs.get(p))) {
        return false;
      }
      NavigableMap<String, EtcEntry> b = base.subMap(p + "/", true, p + "0", false);
      NavigableMap<String, EtcEntry> t = theirs.subMap(p + "/", true, p + "0", false);
      if (!b.keySet().equals(t.keySet())) {
        return false;
      }
      return b.entrySet().stream().allMatch(e -> e.getValue().sameAs(t.get(e.getKey())));
    }
  }

  /** Orders paths so that a directory comes right before what it holds ('/' sorts first). */
  static int compareByPath(String a, String b) {
    int n = Math.min(a.length(), b.length());
    for (int i = 0; i < n; i++) {
      char ca = a.charAt(i);
      char cb = b.charAt(i);
      if (ca != cb) {
        if (ca == '/') {
          return -1;
        }
        if (cb == '/') {
          return 1;
        }
        return Character.compare(ca, cb);
      }
    }
    return Integer.compare(a.length(), b.length());
  }
}
