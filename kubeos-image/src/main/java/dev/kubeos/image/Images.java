package dev.kubeos.image;

import dev.kubeos.image.build.BuildListener;
import dev.kubeos.image.build.BuildResult;
import dev.kubeos.image.build.DiskInitializer;
import dev.kubeos.image.build.HostTools;
import dev.kubeos.image.build.ImageBuilder;
import dev.kubeos.image.config.ImageConfig;
import dev.kubeos.image.plan.BuildPlan;
import dev.kubeos.image.plan.Planner;
import dev.kubeos.image.source.RootfsSources;
import java.nio.file.Path;
import java.time.Clock;

/** Entry points of the image builder: config file to plan, plan to image. */
public final class Images {
  private Images() {}

  /**
   * Reads {@code configFile} and plans the build. Reads the source's content for the cache key (a
   * directory listing), writes nothing.
   */
  public static BuildPlan plan(Path configFile, Path outputDir, Path cacheDir) {
    ImageConfig config = ImageConfig.load(configFile);
    Path configDir = configFile.toAbsolutePath().normalize().getParent();
    BuildPlan draft = Planner.plan(config, configDir, outputDir, cacheDir, "");
    String contentKey = RootfsSources.of(draft.source()).contentKey();
    return Planner.plan(config, configDir, outputDir, cacheDir, contentKey);
  }

  /**
   * Builds {@code plan} with this machine's tools; {@code diskInit} is the agent's first init of
   * the new disk.
   */
  public static BuildResult build(
      BuildPlan plan, BuildListener listener, DiskInitializer diskInit) {
    return new ImageBuilder(HostTools.system(), listener, Clock.systemUTC(), diskInit).build(plan);
  }
}
