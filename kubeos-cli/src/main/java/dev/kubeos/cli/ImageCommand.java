package dev.kubeos.cli;

import dev.kubeos.agent.delta.DeltaEstimate;
import dev.kubeos.agent.host.FreshDiskInit;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.chunk.ChunkerParams;
import dev.kubeos.formats.chunk.DeltaPlan;
import dev.kubeos.formats.chunk.io.ChunkIndexFiles;
import dev.kubeos.formats.digest.Sha256;
import dev.kubeos.image.Images;
import dev.kubeos.image.build.BuildEvent;
import dev.kubeos.image.build.BuildResult;
import dev.kubeos.image.build.HostTools;
import dev.kubeos.image.build.ImageBuilder;
import dev.kubeos.image.plan.BuildPlan;
import dev.kubeos.image.publish.RegistryPublisher;
import dev.kubeos.oci.RegistryOptions;
import dev.kubeos.oci.model.ImageReference;
import dev.kubeos.oci.source.FetchOptions;
import java.io.IOException;
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
      ImageCommand.DeltaStats.class,
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

    @Option(
        names = "--push",
        paramLabel = "REPO[:TAG]",
        description =
            "After the build, push the upstream-compatible OS image (/os.tar) to REPO:TAG and the"
                + " KubeOS OS artifact (raw image + chunk index) to REPO:TAG-raw; TAG defaults to"
                + " the version. E.g. 127.0.0.1:5000/kubeos/os")
    String push;

    @Option(names = "--insecure-registry", description = "Talk plain http to the --push registry.")
    boolean insecureRegistry;

    @Option(
        names = "--docker-config",
        paramLabel = "FILE",
        defaultValue = "${sys:user.home}/.docker/config.json",
        description = "Registry credentials for --push (default: ${DEFAULT-VALUE}).")
    Path dockerConfig;

    @Override
    public Integer call() throws IOException {
      PrintWriter out = spec.commandLine().getOut();
      BuildPlan plan = Images.plan(config, output, cacheDir);
      ImageReference target = push == null ? null : RegistryPublisher.target(push, plan.version());
      out.print(plan.describe());
      if (target != null) {
        out.printf(
            "push: %s (os.tar image) and %s%s (raw image + chunk index)%n",
            target, target, RegistryPublisher.RAW_SUFFIX);
      }
      out.flush();
      if (dryRun) {
        out.println("dry run: nothing was changed");
        out.flush();
        return 0;
      }
      long start = System.nanoTime();
      BuildResult r =
          new ImageBuilder(
                  HostTools.system(),
                  e -> print(out, e),
                  Clock.systemUTC(),
                  new FreshDiskInit(Clock.systemUTC())::init)
              .build(plan);
      out.printf(
          "built KubeOS %s in %s%n  %s%n  %s  sha256 %s%n  %s%n  %s  sha256 %s%n%s",
          plan.version(),
          seconds(Duration.ofNanos(System.nanoTime() - start)),
          r.disk(),
          r.rootfsImage(),
          r.rootfsImageSha256(),
          ChunkIndexFiles.indexPathFor(r.rootfsImage()),
          r.rootfsTar(),
          r.rootfsTarSha256(),
          r.qcow2() == null ? "" : "  " + r.qcow2() + "\n");
      out.flush();
      if (target != null) {
        push(out, plan.version(), target, r);
      }
      return 0;
    }

    private void push(PrintWriter out, String version, ImageReference target, BuildResult r)
        throws IOException {
      long start = System.nanoTime();
      RegistryPublisher.Published p =
          new RegistryPublisher(
                  RegistryOptions.defaults().withDockerConfig(dockerConfig),
                  FetchOptions.defaults().withInsecure(insecureRegistry))
              .push(
                  target,
                  version,
                  r.rootfsTar(),
                  r.rootfsImage(),
                  Sha256.parse(r.rootfsImageSha256()));
      out.printf(
          "pushed in %s (%d bytes uploaded)%n"
              + "  OS image (/os.tar)  %s@%s%n"
              + "    OS resource: imagetype docker|containerd, containerimage %s, checksum %s%n"
              + "  OS artifact (raw)   %s@%s%n"
              + "    kubeos agent stage --image %s --sha256 %s --version %s%n"
              + "    (raw image %s; delta staging when the node has a booted slot)%n",
          seconds(Duration.ofNanos(System.nanoTime() - start)),
          p.uploadedBytes(),
          p.osImage(),
          p.osImageDigest(),
          p.osImage(),
          p.osImageDigest().hex(),
          p.artifact(),
          p.artifactDigest(),
          p.artifact(),
          p.artifactDigest().hex(),
          version,
          p.imageSha256());
      out.flush();
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

  @Command(
      name = "delta-stats",
      mixinStandardHelpOptions = true,
      description =
          "How many bytes a node whose booted slot holds OLD fetches to stage NEW as a delta"
              + " payload (raw root file-system images, e.g. rootfs-V.img).")
  static final class DeltaStats implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "OLD", description = "Image the node has.")
    Path oldImage;

    @Parameters(index = "1", paramLabel = "NEW", description = "Image to stage.")
    Path newImage;

    @Option(
        names = "--chunk-sizes",
        paramLabel = "MIN,AVG,MAX",
        description = "Chunk sizes in KiB (4 KiB blocks); default: the builder's 4,16,64.")
    String sizes;

    @Override
    public Integer call() throws IOException {
      ChunkerParams params = ChunkerParams.ext4Defaults();
      if (sizes != null) {
        String[] p = sizes.split(",");
        if (p.length != 3) {
          throw new AgentException(
              ErrorCode.INVALID_REQUEST, "--chunk-sizes takes MIN,AVG,MAX in KiB, e.g. 16,64,256");
        }
        try {
          params =
              new ChunkerParams(
                  4096,
                  Integer.parseInt(p[0].trim()) << 10,
                  Integer.parseInt(p[1].trim()) << 10,
                  Integer.parseInt(p[2].trim()) << 10);
        } catch (IllegalArgumentException e) {
          throw new AgentException(
              ErrorCode.INVALID_REQUEST, "--chunk-sizes " + sizes + ": " + e.getMessage());
        }
      }
      DeltaEstimate e = DeltaEstimate.of(oldImage, newImage, params);
      DeltaPlan.Stats s = e.plan();
      PrintWriter out = spec.commandLine().getOut();
      out.printf(
          "chunks:          %d/%d/%d KiB (min/avg/max), %d chunks, %d distinct%n",
          params.minSize() >> 10,
          params.avgSize() >> 10,
          params.maxSize() >> 10,
          e.chunks(),
          e.distinctChunks());
      out.printf("new image:       %d bytes%n", s.imageBytes());
      out.printf("zero chunks:     %d bytes (written locally)%n", s.zeroBytes());
      out.printf("copied from old: %d bytes%n", s.copyBytes());
      out.printf("fetched chunks:  %d bytes in %d ranges%n", s.fetchBytes(), s.ranges());
      out.printf("index:           %d bytes%n", e.indexBytes());
      out.printf(
          "fetched total:   %d bytes = %.2f%% of the image (%.1f%% fewer bytes than a full"
              + " stage)%n",
          e.totalFetchBytes(),
          100.0 * e.totalFetchBytes() / s.imageBytes(),
          100.0 - 100.0 * e.totalFetchBytes() / s.imageBytes());
      out.printf("computed in:     %s%n", Build.seconds(e.elapsed()));
      out.flush();
      return 0;
    }
  }
}
