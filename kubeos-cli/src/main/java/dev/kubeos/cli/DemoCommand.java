package dev.kubeos.cli;

import dev.kubeos.cli.demo.DemoImages;
import dev.kubeos.cli.demo.FileBackedDemo;
import dev.kubeos.cli.demo.QemuDemo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code kubeos demo}: build v1 and v2 with the image builder, boot v1 under QEMU and upgrade it to
 * v2 through the guest's agent; {@code --quick}: the agent on a file-backed disk image.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Build KubeOS v1 and v2 with the image builder (Debian via debootstrap;",
      "v2 reuses v1's cached rootfs), boot v1's disk under QEMU (OVMF + GRUB,",
      "TCG, no network) and upgrade it to v2 through the guest's agent: stage",
      "from a job disk, activate, reboot into the trial, the health check",
      "commits. Prints every step with its time, then a summary. Needs root,",
      "qemu-system-x86 and ovmf (./kubeos installs them); ~15 min on 2 cores.",
      "--quick: the agent on a file-backed GPT disk image instead (no root, no",
      "QEMU, seconds; the reboot is simulated).",
      "--cluster (./kubeos demo --cluster in a checkout): the whole system, an",
      "OS resource upgrading two QEMU nodes one at a time through the operator,",
      "their proxies and agents (~20 min on 2 cores, rootfs cached)."
    })
final class DemoCommand implements Callable<Integer> {
  @Option(
      names = "--quick",
      description = "File-backed demo: no root, no QEMU, seconds; the reboot is simulated.")
  boolean quick;

  @Option(
      names = "--cluster",
      description =
          "The whole-system demo; runs from a checkout through ./kubeos demo --cluster (it is"
              + " the e2e tier's scenario 1, and needs the test classpath: fabric8's mock API"
              + " server stands in for kube-apiserver).")
  boolean cluster;

  @Option(
      names = "--work-dir",
      paramLabel = "DIR",
      description =
          "Where images, job disks and console logs go; emptied first (default: .work/demo"
              + " in the checkout, else in the current directory).")
  Path workDir;

  @Option(
      names = "--cache-dir",
      paramLabel = "DIR",
      description =
          "The image builder's rootfs cache (default: ~/.cache/kubeos/image, shared with"
              + " 'kubeos image build' and the e2e test).")
  Path cacheDir;

  @Option(
      names = "--agent-runtime",
      paramLabel = "DIR",
      description =
          "jlink'd agent runtime for the images; built with"
              + " scripts/build-agent-runtime.sh when missing or stale (default:"
              + " kubeos-cli/target/agent-runtime in the checkout).")
  Path agentRuntime;

  @Option(
      names = "--boot-timeout",
      paramLabel = "SECONDS",
      defaultValue = "1200",
      description = "Longest a single QEMU boot may take (default: ${DEFAULT-VALUE}).")
  long bootTimeoutSeconds;

  @Override
  public Integer call() throws Exception {
    if (cluster) {
      System.err.println(
          "kubeos demo: --cluster runs from a checkout of the project: ./kubeos demo --cluster"
              + " (it is ClusterE2E's scenario 1 on the test classpath, where fabric8's mock API"
              + " server stands in for kube-apiserver)");
      return 2;
    }
    Path repo = checkout();
    Path work = workDir != null ? workDir : repo.resolve(".work/demo");
    if (quick) {
      return new FileBackedDemo(work, System.out).run();
    }
    String why = QemuDemo.preflight();
    if (why != null) {
      System.err.println("kubeos demo: " + why);
      return 2;
    }
    QemuDemo demo =
        new QemuDemo(
            new QemuDemo.Options(
                work,
                cacheDir != null ? cacheDir : DemoImages.DEFAULT_CACHE_DIR,
                repo,
                agentRuntime != null
                    ? agentRuntime
                    : repo.resolve("kubeos-cli/target/agent-runtime"),
                Duration.ofSeconds(bootTimeoutSeconds)),
            System.out);
    try {
      demo.run();
      return 0;
    } catch (java.io.IOException | IllegalStateException e) {
      System.out.flush();
      System.err.println("kubeos demo: failed: " + e.getMessage());
      return 1;
    }
  }

  /** The checkout this jar was built in (…/kubeos-cli/target/kubeos.jar), else the current dir. */
  static Path checkout() {
    try {
      Path jar =
          Path.of(DemoCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      Path target = jar.getParent();
      if (target != null
          && target.getParent() != null
          && target.getParent().getParent() != null
          && Files.isRegularFile(
              target.getParent().getParent().resolve("scripts/build-agent-runtime.sh"))) {
        return target.getParent().getParent();
      }
    } catch (Exception e) {
      // not from a jar in a checkout
    }
    return Path.of("").toAbsolutePath();
  }
}
