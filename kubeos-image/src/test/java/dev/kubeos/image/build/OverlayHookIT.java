package dev.kubeos.image.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The initramfs hook that mounts PERSIST, the /etc overlay and /var, run for real (needs root,
 * unshare, losetup, mkfs.ext4): under the host's POSIX sh (dash, the shell klibc's sh derives
 * from), in a private mount namespace, against an ext4 PERSIST on a loop device. It picks the
 * booted slot's own upper dir when the /etc merge made one, else the shared one, and prints the
 * merge's conflicts on the console.
 */
class OverlayHookIT {
  @TempDir Path tmp;
  Path persistImg;

  @BeforeEach
  void persist() throws Exception {
    assumeTrue(
        "root".equals(System.getProperty("user.name"))
            && List.of("unshare", "losetup", "mkfs.ext4", "chroot").stream()
                .allMatch(OverlayHookIT::onPath),
        "needs root, unshare, losetup, mkfs.ext4 and chroot");
    Path tree = tmp.resolve("persist-tree");
    write(tree.resolve("etc/upper/hosts"), "shared upper\n");
    Files.createDirectories(tree.resolve("etc/work"));
    write(tree.resolve("etc/B.1/upper/hosts"), "merged for B\n");
    Files.createDirectories(tree.resolve("etc/B.1/work"));
    write(
        tree.resolve("etc/B.1/conflicts.txt"),
        "/etc/hosts: changed on the node and in the new version; the node's is kept\n");
    Files.createSymbolicLink(tree.resolve("etc/B"), Path.of("B.1"));
    Files.createDirectories(tree.resolve("var"));
    persistImg = tmp.resolve("persist.img");
    run(List.of("truncate", "-s", "16M", persistImg.toString()));
    run(List.of("mkfs.ext4", "-q", "-d", tree.toString(), persistImg.toString()));
  }

  @Test
  void aSlotWithItsOwnUpperDirBootsWithItAndTheConflictsAreOnTheConsole() throws Exception {
    String out = runHook("root=PARTUUID=x ro panic=10 kubeos.slot=B quiet");
    assertThat(out)
        .contains(
            "hook exit: 0",
            "WARNING: KubeOS: /etc merge conflict: /etc/hosts: changed on the node and in the new"
                + " version; the node's is kept",
            "hosts: merged for B",
            "motd: lower",
            "upperdir=/root/persist/etc/B/upper,workdir=/root/persist/etc/B/work");
  }

  @Test
  void aSlotWithoutItsOwnUpperDirUsesTheSharedOne() throws Exception {
    String out = runHook("root=PARTUUID=x ro panic=10 kubeos.slot=A");
    assertThat(out)
        .contains(
            "hook exit: 0",
            "hosts: shared upper",
            "upperdir=/root/persist/etc/upper,workdir=/root/persist/etc/work")
        .doesNotContain("conflict");
  }

  @Test
  void noSlotOnTheCommandLineUsesTheSharedOne() throws Exception {
    assertThat(runHook("root=PARTUUID=x ro kubeos.slot=C")).contains("hosts: shared upper");
  }

  String runHook(String cmdline) throws Exception {
    Path hook = tmp.resolve("kubeos-overlay");
    Path driver = tmp.resolve("run-hook.sh");
    copyResource("/dev/kubeos/image/initramfs/kubeos-overlay", hook);
    copyResource("/dev/kubeos/image/initramfs/run-hook.sh", driver);
    Path work = Files.createDirectories(tmp.resolve("work-" + Math.abs(cmdline.hashCode())));
    return run(
        List.of(
            "unshare",
            "-m",
            "--propagation",
            "private",
            "/bin/sh",
            driver.toString(),
            hook.toString(),
            work.toString(),
            persistImg.toString(),
            cmdline));
  }

  static String run(List<String> argv) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(String.join(" ", argv) + "\n" + out).isZero();
    return out;
  }

  static void copyResource(String name, Path to) throws IOException {
    try (InputStream in = Objects.requireNonNull(OverlayHookIT.class.getResourceAsStream(name))) {
      Files.copy(in, to);
    }
  }

  static void write(Path p, String content) throws IOException {
    Files.createDirectories(p.getParent());
    Files.writeString(p, content);
  }

  static boolean onPath(String tool) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (Files.isExecutable(Path.of(dir, tool))) {
        return true;
      }
    }
    return false;
  }
}
