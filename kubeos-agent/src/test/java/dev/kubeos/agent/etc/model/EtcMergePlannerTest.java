package dev.kubeos.agent.etc.model;

import static dev.kubeos.agent.etc.model.EtcMergePlan.Action.COPY_FROM_NODE;
import static dev.kubeos.agent.etc.model.EtcMergePlan.Action.DIR_FROM_NEW;
import static dev.kubeos.agent.etc.model.EtcMergePlan.Action.DIR_FROM_NODE;
import static dev.kubeos.agent.etc.model.EtcMergePlan.Action.WHITEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kubeos.agent.etc.model.EtcConflict.Kind;
import dev.kubeos.agent.etc.model.EtcEntry.Type;
import dev.kubeos.agent.etc.model.EtcMergePlan.Action;
import dev.kubeos.agent.etc.model.EtcMergePlan.Step;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class EtcMergePlannerTest {

  static EtcEntry file(String content) {
    return new EtcEntry(Type.FILE, 0644, 0, 0, content, Map.of());
  }

  static EtcEntry dir() {
    return new EtcEntry(Type.DIR, 0755, 0, 0, "", Map.of());
  }

  static EtcEntry link(String target) {
    return new EtcEntry(Type.SYMLINK, 0777, 0, 0, target, Map.of());
  }

  static NavigableMap<String, EtcEntry> tree(Object... pathsAndEntries) {
    NavigableMap<String, EtcEntry> t = new TreeMap<>();
    for (int i = 0; i < pathsAndEntries.length; i += 2) {
      t.put((String) pathsAndEntries[i], (EtcEntry) pathsAndEntries[i + 1]);
    }
    return t;
  }

  static Step step(Action a, String path) {
    return new Step(a, path);
  }

  @Test
  void anUnchangedCopyUpIsDroppedSoTheNewVersionsFileShows() {
    EtcMergePlan plan =
        EtcMergePlanner.plan(
            tree("containerd", dir(), "containerd/config.toml", file("v1")),
            tree("containerd", dir(), "containerd/config.toml", file("v1")),
            tree("containerd", dir(), "containerd/config.toml", file("v2")));
    assertThat(plan.steps()).isEmpty();
    assertThat(plan.conflicts()).isEmpty();
    assertThat(plan.fromNewVersion()).containsExactly("containerd/config.toml");
  }

  @Test
  void aFileTheNodeChangedStaysTheNodesWithItsParentFromTheNewVersion() {
    EtcMergePlan plan =
        EtcMergePlanner.plan(
            tree("sysctl.d", dir(), "sysctl.d/90.conf", file("a=1")),
            tree("sysctl.d", dir(), "sysctl.d/90.conf", file("a=2")),
            tree("sysctl.d", dir(), "sysctl.d/90.conf", file("a=1")));
    assertThat(plan.steps())
        .containsExactly(step(DIR_FROM_NEW, "sysctl.d"), step(COPY_FROM_NODE, "sysctl.d/90.conf"));
    assertThat(plan.conflicts()).isEmpty();
    assertThat(plan.nodePaths()).containsExactly("sysctl.d/90.conf");
  }

  @Test
  void aModeOrOwnerChangeIsAChange() {
    EtcEntry shadow = file("x");
    EtcEntry tightened = new EtcEntry(Type.FILE, 0600, 0, 42, "x", Map.of());
    EtcMergePlan plan =
        EtcMergePlanner.plan(
            tree("shadow", shadow), tree("shadow", tightened), tree("shadow", shadow));
    assertThat(plan.steps()).containsExactly(step(COPY_FROM_NODE, "shadow"));
  }

  @Test
  void bothChangedIsAConflictAndTheNodesStays() {
    EtcMergePlan plan =
        EtcMergePlanner.plan(
            tree("hosts", file("v1")), tree("hosts", file("node")), tree("hosts", file("v2")));
    assertThat(plan.steps()).containsExactly(step(COPY_FROM_NODE, "hosts"));
    assertThat(plan.conflicts()).containsExactly(new EtcConflict("hosts", Kind.BOTH_CHANGED));
  }

  @Test
  void theSameChangeOnBothSidesIsNoConflictAndTheNewVersionsShows() {
    EtcMergePlan plan =
        EtcMergePlanner.plan(
            tree("hosts", file("v1")), tree("hosts", file("v2")), tree("hosts", file("v2")));
    assertThat(plan.steps()).isEmpty();
    assertThat(plan.conflicts()).isEmpty();
  }

  @Test
  void aFileTheNodeDeletedStaysDeletedWhileTheNewVersionShipsItUnchanged() {
    EtcMergePlan plan =
        EtcMergePlanner.plan(tree("motd", file("hi")), tree(), tree("motd", file("hi")));
    assertThat(plan.steps()).containsExactly(step(WHITEOUT, "motd"));
    assertThat(plan.conflicts()).isEmpty();
  }

  @Test
  void aFileTheNodeDeletedAndTheNewVersionChangedIsAConflictAndStaysDeleted() {
    EtcMergePlan plan =
        EtcMergePlanner.plan(tree("motd", file("hi")), tree(), tree("motd", file("hello")));
    assertThat(plan.steps()).containsExactly(step(WHITEOUT, "motd"));
    assertThat(plan.conflicts())
        .containsExactly(new EtcConflict("motd", Kind.DELETED_HERE_CHANGED_THERE));
  }

  @Test
  void aDeletionOfWhatTheNewVersionRemovedTooLeavesNothing() {
    EtcMergePlan plan = EtcMergePlanner.plan(tree("motd", file("hi")), tree(), tree());
    assertThat(plan.steps()).isEmpty();
  }

  @Test
  void aDirectoryTheNodeDeletedIsAConflictWhenAnythingBelowChanged() {
    NavigableMap<String, EtcEntry> base = tree("cron.d", dir(), "cron.d/a", file("1"));
    EtcMergePlan same =
        EtcMergePlanner.plan(base, tree(), tree("cron.d", dir(), "cron.d/a", file("1")));
    assertThat(same.steps()).containsExactly(step(WHITEOUT, "cron.d"));
    assertThat(same.conflicts()).isEmpty();
    EtcMergePlan added =
        EtcMergePlanner.plan(
            base, tree(), tree("cron.d", dir(), "cron.d/a", file("1"), "cron.d/b", file("2")));
    assertThat(added.steps()).containsExactly(step(WHITEOUT, "cron.d"));
    assertThat(added.conflicts())
        .containsExactly(new EtcConflict("cron.d", Kind.DELETED_HERE_CHANGED_THERE));
  }

  @Test
  void aDirectoryTheNodeEmptiedKeepsItsDeletionsButLetsNewFilesIn() {
    // an opaque dir in the upper: the node sees the dir without base's files
    EtcMergePlan plan =
        EtcMergePlanner.plan(
            tree("apt", dir(), "apt/a.list", file("a"), "apt/b.list", file("b")),
            tree("apt", dir(), "apt/mine.list", file("m")),
            tree(
                "apt",
                dir(),
                "apt/a.list",
                file("a"),
                "apt/b.list",
                file("b2"),
                "apt/c.list",
                file("c")));
    assertThat(plan.steps())
        .containsExactly(
            step(DIR_FROM_NEW, "apt"),
            step(WHITEOUT, "apt/a.list"),
            step(WHITEOUT, "apt/b.list"),
            step(COPY_FROM_NODE, "apt/mine.list"));
    assertThat(plan.conflicts())
        .containsExactly(new EtcConflict("apt/b.list", Kind.DELETED_HERE_CHANGED_THERE));
    assertThat(plan.fromNewVersion()).containsExactly("apt/c.list");
  }

  @Test
  void filesTheNodeCreatedStayAndBothCreatedDifferentlyIsAConflict() {
    EtcMergePlan plan =
        EtcMergePlanner.plan(
            tree(),
            tree("machine-id", file("abc"), "new.conf", file("node"), "same.conf", file("s")),
            tree("new.conf", file("image"), "same.conf", file("s")));
    assertThat(plan.steps())
        .containsExactly(step(COPY_FROM_NODE, "machine-id"), step(COPY_FROM_NODE, "new.conf"));
    assertThat(plan.conflicts()).containsExactly(new EtcConflict("new.conf", Kind.BOTH_CREATED));
  }

  @Test
  void aChangedFileTheNewVersionRemovedStaysAndIsReported() {
    EtcMergePlan plan =
        EtcMergePlanner.plan(tree("old.conf", file("1")), tree("old.conf", file("2")), tree());
    assertThat(plan.steps()).containsExactly(step(COPY_FROM_NODE, "old.conf"));
    assertThat(plan.conflicts())
        .containsExactly(new EtcConflict("old.conf", Kind.CHANGED_HERE_REMOVED_THERE));
  }

  @Test
  void symlinksCompareByTarget() {
    EtcMergePlan plan =
        EtcMergePlanner.plan(
            tree("resolv.conf", link("/run/a"), "localtime", link("/usr/share/zoneinfo/UTC")),
            tree(
                "resolv.conf",
                link("/run/a"),
                "localtime",
                link("/usr/share/zoneinfo/Europe/Paris")),
            tree("resolv.conf", link("/run/b"), "localtime", link("/usr/share/zoneinfo/UTC")));
    assertThat(plan.steps()).containsExactly(step(COPY_FROM_NODE, "localtime"));
    assertThat(plan.fromNewVersion()).containsExactly("resolv.conf");
  }

  @Test
  void aFileTheNodeMadeIntoADirectoryHidesTheNewVersionsFile() {
    EtcMergePlan plan =
        EtcMergePlanner.plan(
            tree("x", file("1")), tree("x", dir(), "x/y", file("2")), tree("x", file("1")));
    assertThat(plan.steps()).containsExactly(step(DIR_FROM_NODE, "x"), step(COPY_FROM_NODE, "x/y"));
  }

  @Test
  void aNodeDirectoryModeChangeIsKeptAndADirectoryTheNewVersionRemovedHoldsTheNodesFiles() {
    EtcEntry tight = new EtcEntry(Type.DIR, 0700, 0, 0, "", Map.of());
    EtcMergePlan plan =
        EtcMergePlanner.plan(
            tree("ssl", dir(), "gone", dir(), "gone/a", file("1")),
            tree("ssl", tight, "gone", dir(), "gone/a", file("mine")),
            tree("ssl", dir()));
    assertThat(plan.steps())
        .containsExactly(
            step(DIR_FROM_NODE, "gone"),
            step(COPY_FROM_NODE, "gone/a"),
            step(DIR_FROM_NODE, "ssl"));
    assertThat(plan.conflicts())
        .containsExactly(new EtcConflict("gone/a", Kind.CHANGED_HERE_REMOVED_THERE));
  }

  @Test
  void pathsSortWithADirectoryRightBeforeItsContent() {
    List<String> paths = new java.util.ArrayList<>(List.of("a-b", "a/c", "a", "a.d", "a/b/c"));
    paths.sort(EtcMergePlanner::compareByPath);
    assertThat(paths).containsExactly("a", "a/b/c", "a/c", "a-b", "a.d");
  }
}
