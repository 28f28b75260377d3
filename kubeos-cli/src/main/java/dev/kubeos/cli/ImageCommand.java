package dev.kubeos.cli;

import dev.kubeos.image.Images;
import dev.kubeos.image.build.BuildEvent;
import dev.kubeos.image.build.BuildResult;
import dev.kubeos.image.build.HostTools;
import dev.kubeos.image.build.ImageBuilder;
import dev.kubeos.image.plan.BuildPlan;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code kubeos image ...}: builds KubeOS disk images and upgrade payloads. */
@Command(
    name = "image",
    mixinStandardHelpOptions = true,
    description = "Build KubeOS disk images and upgrade payloads; sign payloads.",
    subcommands = {
      ImageCommand.Build.class,
      SignCommands.Keygen.class,
      SignCommands.Sign.class,
      SignCommands.Verify.class
    })
public final class ImageCommand implements Runnable {

  @Override
  public void run() {
    picocli.CommandLine.usage(this, System.out);
  }

  @Command(
      name = "build",
      mixinStandardHelpOptions = true,
      description =
          "Build disk.img (GPT: ESP, ROOT-A with the version, empty ROOT-B, PERSIST) and the"
              + " payloads rootfs-V.img / rootfs-V.tar (+ .sha256) from a TOML config.")
  static final class Build implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "CONFIG", description = "Image config (TOML).")
    Path config;

    @Option(
        names = {"-o", "--output"},
        paramLabel = "DIR",
        defaultValue = "out",
        description = "Output directory (default: ${DEFAULT-VALUE}).")
    Path output;

    @Option(
        names = "--cache-dir",
        paramLabel = "DIR",
        defaultValue = "${sys:user.home}/.cache/kubeos/image",
        description = "Cache of rootfs tarballs keyed by their inputs (default: ${DEFAULT-VALUE}).")
    Path cacheDir;

    @Option(names = "--dry-run", description = "Print the plan and change nothing.")
    boolean dryRun;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      BuildPlan plan = Images.plan(config, output, cacheDir);
      out.print(plan.describe());
      out.flush();
      if (dryRun) {
        out.println("dry run: nothing was changed");
        out.flush();
        return 0;
      }
      long start = System.nanoTime();
      BuildResult r =
          new ImageBuilder(HostTools.system(), e -> print(out, e), Clock.systemUTC()).build(plan);
      out.printf(
          "built KubeOS %s in %s%n  %s%n  %s  sha256 %s%n  %s  sha256 %s%n%s",
          plan.version(),
          seconds(Duration.ofNanos(System.nanoTime() - start)),
          r.disk(),
          r.rootfsImage(),
          r.rootfsImageSha256(),
          r.rootfsTar(),
          r.rootfsTarSha256(),
          r.qcow2() == null ? "" : "  " + r.qcow2() + "\n");
      out.flush();
      return 0;
    }

    private static void print(PrintWriter out, BuildEvent e) {
      switch (e.kind()) {
        case STARTED -> out.printf("==> %s%n", e.step());
        case CACHED -> out.printf("    %s: cached, skipped (%s)%n", e.step(), e.detail());
        case NOTE -> out.printf("    %s: %s%n", e.step(), e.detail());
        case DONE -> out.printf("    %s done in %s%n", e.step(), seconds(e.elapsed()));
      }
      out.flush();
    }

    private static String seconds(Duration d) {
      return String.format("%.1f s", d.toMillis() / 1000.0);
    }
  }
}
