package dev.kubeos.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kubeos.api.Json;
import dev.kubeos.image.Images;
import dev.kubeos.image.build.BuildResult;
import dev.kubeos.image.build.HostTools;
import dev.kubeos.image.plan.BuildPlan;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole story on a real disk: images built by the image builder (Debian via debootstrap, the
 * rootfs cached across versions), booted by OVMF + GRUB under QEMU with no network; the guest's
 * agent is driven by a probe unit that runs a job script from an extra read-only virtio disk. Needs
 * root, qemu-system-x86 and ovmf; run with {@code ./mvnw verify -Pe2e}.
 */
class QemuBootE2E {
  static final Path REPO = Path.of(System.getProperty("user.dir")).getParent();
  static final Path CACHE =
      Path.of(System.getProperty("kubeos.e2e.cache", REPO.resolve(".work/e2e-cache").toString()));

  @TempDir Path dir;

  @Test
  void bootUpgradeCommitRollbackAndFallBackFromABrokenVersion() throws Exception {
    assumeTrue(HostTools.isRoot(), "the image build (debootstrap, chroot) needs root");
    assumeTrue(Files.exists(QemuGuest.OVMF_CODE), "needs ovmf and qemu-system-x86");
    Path runtime = REPO.resolve("kubeos-cli/target/agent-runtime");
    if (!Files.isRegularFile(runtime.resolve("kubeos.jar"))) {
      exec(REPO.resolve("scripts/build-agent-runtime.sh").toString(), runtime.toString());
    }
    BuildResult v1 = build("1.0.0", runtime);
    BuildResult v2 = build("2.0.0", runtime);
    assertThat(v2.rootfsFromCache()).as("v2 reuses v1's rootfs").isTrue();
    Path broken = brokenImage();
    Path logs = Files.createDirectories(REPO.resolve("kubeos-cli/target/e2e-logs"));
    QemuGuest vm = new QemuGuest(v1.disk(), dir, logs);

    // 1. v1 from ROOT-A; stage v2 and arm the trial
    String c =
        vm.boot(
            job(
                v2.rootfsImage(),
                "echo survives > /persist/e2e-marker",
                stage(v2.rootfsImageSha256(), "2.0.0"),
                "systemctl reboot; exit 0"),
            600);
    assertThat(QemuGuest.line(c, "BOOT")).startsWith("release=1.0.0").contains("kubeos.slot=A");
    assertThat(QemuGuest.line(c, "MOUNTS"))
        .contains("root=ro", "etc=overlay", "var=/dev/disk/by-partlabel/PERSIST[/var]")
        .contains("persist=/dev/disk/by-partlabel/PERSIST");
    assertThat(QemuGuest.line(c, "MACHINE-ID")).matches("[0-9a-f]{32}");
    assertThat(status(c).path("slots").path("A").path("version").asText()).isEqualTo("1.0.0");
    assertThat(c).contains("E2E-STAGED ok");
    String machineId = QemuGuest.line(c, "MACHINE-ID");

    // 2. trial boot of v2 from ROOT-B; the health check commits it
    c = vm.boot(null, 600);
    assertThat(QemuGuest.line(c, "BOOT")).startsWith("release=2.0.0").contains("kubeos.slot=B");
    JsonNode s = status(c);
    assertThat(s.path("bootedSlot").asText()).isEqualTo("B");
    assertThat(s.path("defaultSlot").asText()).isEqualTo("B");
    assertThat(QemuGuest.line(c, "MACHINE-ID")).isEqualTo(machineId);

    // 3. still v2 after another reboot (committed); then roll back
    c =
        vm.boot(
            job(null, "kubeos agent rollback && echo 'E2E-ROLLED ok'", "systemctl reboot; exit 0"),
            600);
    assertThat(QemuGuest.line(c, "BOOT")).startsWith("release=2.0.0");
    assertThat(c).contains("E2E-ROLLED ok");

    // 4. back on v1 from ROOT-A; stage a v3 without a kernel and arm its trial
    c =
        vm.boot(
            job(broken, stage(sha256(broken), "3.0.0-broken"), "systemctl reboot; exit 0"), 600);
    assertThat(QemuGuest.line(c, "BOOT")).startsWith("release=1.0.0").contains("kubeos.slot=A");
    assertThat(c).contains("E2E-STAGED ok");

    // 5. GRUB consumed the trial, could not load B and fell back to A by itself
    c =
        vm.boot(
            job(
                null,
                "kubeos agent rollback; echo \"E2E-ROLLBACK-RC $?\"",
                "echo \"E2E-MARKER $(cat /persist/e2e-marker)\""),
            600);
    assertThat(QemuGuest.line(c, "BOOT")).startsWith("release=1.0.0").contains("kubeos.slot=A");
    s = status(c);
    assertThat(s.path("bootedSlot").asText()).isEqualTo("A");
    assertThat(s.path("defaultSlot").asText()).isEqualTo("A");
    assertThat(s.path("slots").path("B").path("version").asText()).isEqualTo("3.0.0-broken");
    assertThat(s.path("slots").path("B").path("state").asText()).isEqualTo("FAILED_TRIAL");
    assertThat(s.path("lastFailure").asText()).contains("did not commit");
    assertThat(QemuGuest.line(c, "ROLLBACK-RC")).isNotEqualTo("0");
    assertThat(QemuGuest.line(c, "MARKER")).isEqualTo("survives");
  }

  BuildResult build(String version, Path runtime) throws IOException {
    Path d = Files.createDirectories(dir.resolve("v" + version));
    for (String f : List.of("kubeos-e2e", "kubeos-e2e.service")) {
      try (InputStream in = getClass().getResourceAsStream("e2e/" + f)) {
        Files.write(d.resolve(f), in.readAllBytes());
      }
    }
    Path config = d.resolve("kubeos.toml");
    Files.writeString(
        config,
        "version = \""
            + version
            + "\"\n"
            + "[[files]]\nsource = \"kubeos-e2e\"\ntarget = \"/usr/local/sbin/kubeos-e2e\"\nmode = \"0755\"\n"
            + "[[files]]\nsource = \"kubeos-e2e.service\"\n"
            + "target = \"/etc/systemd/system/kubeos-e2e.service\"\n"
            + "[systemd]\nenable = [\"kubeos-e2e.service\"]\n"
            + "[partitions]\nesp_mib = 32\nroot_mib = 1024\npersist_mib = 256\n"
            + "[kernel]\ncmdline = \"console=ttyS0,115200\"\n"
            + "[agent]\nruntime = \""
            + runtime
            + "\"\n");
    BuildPlan plan = Images.plan(config, d.resolve("out"), CACHE);
    return Images.build(
        plan,
        e -> {
          if (e.kind() != dev.kubeos.image.build.BuildEvent.Kind.STARTED) {
            System.out.printf(
                "[image %s] %s %s %s %s%n", version, e.step(), e.kind(), e.elapsed(), e.detail());
          }
        });
  }

  /** A root file system without a kernel: GRUB cannot boot it. */
  Path brokenImage() throws Exception {
    Path tree = Files.createDirectories(dir.resolve("broken/tree/etc"));
    Files.writeString(tree.resolve("os-release"), "PRETTY_NAME=\"KubeOS 3.0.0-broken\"\n");
    Path img = dir.resolve("broken/rootfs.img");
    exec("mkfs.ext4", "-q", "-F", "-d", tree.getParent().toString(), img.toString(), "16M");
    return img;
  }

  /** A job disk (ext4, label KUBEOS-JOB) with job.sh and, if given, the payload as payload.img. */
  Path job(Path payload, String... lines) throws Exception {
    Path d = Files.createDirectories(dir.resolve("job-" + System.nanoTime()));
    Files.writeString(d.resolve("job.sh"), String.join("\n", lines) + "\n");
    long size = 64L << 20;
    if (payload != null) {
      Files.createLink(d.resolve("payload.img"), payload);
      size += Files.size(payload);
    }
    Path img = dir.resolve(d.getFileName() + ".img");
    exec(
        "mkfs.ext4",
        "-q",
        "-F",
        "-L",
        "KUBEOS-JOB",
        "-d",
        d.toString(),
        img.toString(),
        (size >> 10) + "k");
    return img;
  }

  static String stage(String sha256, String version) {
    return "kubeos agent stage --url file:///run/job/payload.img --sha256 "
        + sha256
        + " --version "
        + version
        + " --format raw && kubeos agent activate && echo 'E2E-STAGED ok'";
  }

  static JsonNode status(String console) throws IOException {
    String json = QemuGuest.line(console, "STATUS");
    assertThat(json).as("agent status on the console").isNotNull();
    return Json.mapper().readTree(json);
  }

  static String sha256(Path file) throws Exception {
    return dev.kubeos.image.build.Trees.sha256(file);
  }

  static void exec(String... argv) throws Exception {
    String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin";
    for (String d : path.split(":")) {
      if (!d.isEmpty() && Files.isExecutable(Path.of(d, argv[0]))) {
        argv[0] = Path.of(d, argv[0]).toString();
        break;
      }
    }
    Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
    String o = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(String.join(" ", argv) + ": " + o).isZero();
  }
}
