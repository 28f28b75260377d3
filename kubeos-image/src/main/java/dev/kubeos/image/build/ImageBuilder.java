package dev.kubeos.image.build;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.formats.chunk.ChunkIndex;
import dev.kubeos.formats.chunk.ChunkerParams;
import dev.kubeos.formats.chunk.io.ChunkIndexFiles;
import dev.kubeos.image.plan.BuildPlan;
import dev.kubeos.image.source.RootfsSource;
import dev.kubeos.image.source.RootfsSources;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Executes a {@link BuildPlan} step by step, reporting each step to a {@link BuildListener}. The
 * rootfs step's tarball is cached under the plan's cache key; everything else is rebuilt. Scratch
 * space is {@code <output>/.work} (removed after a successful build); command output goes to {@code
 * <output>/build.log}.
 */
public final class ImageBuilder {
  private static final List<Tool> ALWAYS =
      List.of(
          Tool.SGDISK,
          Tool.MKFS_EXT4,
          Tool.MKFS_VFAT,
          Tool.MMD,
          Tool.MCOPY,
          Tool.GRUB_MKSTANDALONE,
          Tool.TAR,
          Tool.CP,
          Tool.DD);

  private final HostTools tools;
  private final BuildListener listener;
  private final Clock clock;
  private final DiskInitializer diskInit;
  private final Map<String, Duration> times = new LinkedHashMap<>();

  /**
   * @param diskInit the agent's own first init of the new disk (kubeos-cli wires the agent's)
   */
  public ImageBuilder(
      HostTools tools, BuildListener listener, Clock clock, DiskInitializer diskInit) {
    this.tools = tools;
    this.listener = listener;
    this.clock = clock;
    this.diskInit = diskInit;
  }

  /** The host tools a plan needs (without the source's when its rootfs is cached). */
  public static Set<Tool> requiredTools(BuildPlan plan, RootfsSource source, boolean cached) {
    Set<Tool> need = new LinkedHashSet<>(ALWAYS);
    if (!cached) {
      need.addAll(source.tools());
    }
    if (plan.qcow2()) {
      need.add(Tool.QEMU_IMG);
    }
    return need;
  }

  /** Runs every step of {@code plan}. */
  public BuildResult build(BuildPlan plan) {
    RootfsSource source = RootfsSources.of(plan.source());
    boolean cached = Files.isRegularFile(plan.cachedRootfs());
    boolean[] fromCache = {cached}; // also when another build made it while this one waited
    Path work = plan.outputDir().resolve(".work");
    Exec exec = new Exec(plan.outputDir().resolve("build.log"));
    step(
        "check-host",
        () -> {
          if (!cached && source.needsRoot() && !tools.root()) {
            throw new AgentException(
                ErrorCode.PRECONDITION_FAILED,
                "building the root file system from "
                    + plan.source().kind()
                    + " needs root (debootstrap, mounts and apt-get in a chroot); run the build as"
                    + " root (sudo kubeos image build ...), or use a cached rootfs or a directory"
                    + " source");
          }
          tools.require(requiredTools(plan, source, cached), true);
          for (BuildPlan.FileCopy f : plan.files()) {
            if (!Files.isRegularFile(f.source())) {
              throw new AgentException(
                  ErrorCode.INVALID_REQUEST,
                  "file " + f.source() + " (for " + f.target() + ") does not exist");
            }
          }
          Files.createDirectories(plan.outputDir());
          Files.createDirectories(plan.cacheDir());
          Files.deleteIfExists(exec.log());
          Trees.delete(work);
          Files.createDirectories(work);
          Files.writeString(plan.outputDir().resolve("plan.txt"), plan.describe());
        });
    step(
        "rootfs",
        () -> {
          if (cached) {
            emit("rootfs", BuildEvent.Kind.CACHED, plan.cachedRootfs().toString(), Duration.ZERO);
            return;
          }
          // one build per cache key at a time, across processes: a second build of the same
          // rootfs waits for the first and takes its result instead of writing the same file
          boolean made;
          try {
            made =
                CacheLock.with(
                    plan.cacheDir().resolve(".rootfs-" + plan.cacheKey() + ".lock"),
                    () -> {
                      if (Files.isRegularFile(plan.cachedRootfs())) {
                        return false;
                      }
                      Path tmp = plan.cacheDir().resolve(".rootfs-" + plan.cacheKey() + ".tmp");
                      Files.deleteIfExists(tmp);
                      source.produce(tmp, work, exec, tools);
                      Files.move(tmp, plan.cachedRootfs(), StandardCopyOption.ATOMIC_MOVE);
                      return true;
                    });
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted waiting for the rootfs cache");
          }
          if (!made) {
            fromCache[0] = true;
            emit(
                "rootfs",
                BuildEvent.Kind.CACHED,
                plan.cachedRootfs() + " (made by another build meanwhile)",
                Duration.ZERO);
            return;
          }
          note(
              "rootfs", "cached as " + plan.cachedRootfs() + " (" + mib(plan.cachedRootfs()) + ")");
        });
    Path root = work.resolve("root");
    step(
        "customize",
        () -> {
          Files.createDirectories(root);
          Trees.untar(exec, tools, plan.cachedRootfs(), root);
          for (String n : new OsCustomizer(plan, root).apply()) {
            note("customize", n);
          }
        });
    String[] sums = new String[3];
    step(
        "payloads",
        () -> {
          for (Path p : List.of(plan.rootfsTar(), plan.rootfsImage())) {
            Files.deleteIfExists(p);
            Files.deleteIfExists(p.resolveSibling(p.getFileName() + ".sha256"));
          }
          Files.deleteIfExists(ChunkIndexFiles.indexPathFor(plan.rootfsImage()));
          Trees.tar(exec, tools, root, plan.rootfsTar());
          sums[0] = Trees.writeSha256(plan.rootfsTar());
          DiskSteps.mkfsExt4(
              exec,
              tools,
              plan.rootfsImage(),
              0,
              plan.disk().partition("ROOT-A").sizeBytes(),
              "KUBEOS-ROOT",
              plan.disk().rootFsUuid(),
              root);
          sums[1] = Trees.writeSha256(plan.rootfsImage());
          ChunkIndex index =
              ChunkIndexFiles.writeIndex(plan.rootfsImage(), ChunkerParams.ext4Defaults());
          note("payloads", plan.rootfsTar().getFileName() + " " + mib(plan.rootfsTar()));
          Path indexFile = ChunkIndexFiles.indexPathFor(plan.rootfsImage());
          note(
              "payloads",
              indexFile.getFileName()
                  + " "
                  + index.chunks().size()
                  + " chunks, "
                  + Files.size(indexFile)
                  + " bytes");
        });
    DiskSteps disk = new DiskSteps(plan, exec, tools, work, diskInit);
    step("partition", disk::partition);
    step("slot-a", () -> sums[2] = disk.slotA(root));
    step("esp", () -> disk.esp(sums[2]));
    step("persist", () -> disk.persist(root));
    if (plan.qcow2()) {
      step(
          "qcow2",
          () -> {
            Files.deleteIfExists(plan.qcow2Image());
            exec.run(
                List.of(
                    tools.path(Tool.QEMU_IMG),
                    "convert",
                    "-f",
                    "raw",
                    "-O",
                    "qcow2",
                    plan.diskImage().toString(),
                    plan.qcow2Image().toString()));
          });
    }
    Trees.delete(work);
    return new BuildResult(
        plan.diskImage(),
        plan.qcow2() ? plan.qcow2Image() : null,
        plan.rootfsImage(),
        sums[1],
        plan.rootfsTar(),
        sums[0],
        sums[2],
        fromCache[0],
        java.util.Collections.unmodifiableMap(new LinkedHashMap<>(times)));
  }

  /** A step body; may throw IOException (becomes IO_ERROR naming the step). */
  @FunctionalInterface
  interface Body {
    void run() throws IOException;
  }

  private void step(String name, Body body) {
    long start = System.nanoTime();
    emit(name, BuildEvent.Kind.STARTED, "", Duration.ZERO);
    try {
      body.run();
    } catch (IOException e) {
      throw new AgentException(ErrorCode.IO_ERROR, "step " + name + " failed: " + e, e);
    }
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    times.put(name, took);
    emit(name, BuildEvent.Kind.DONE, "", took);
  }

  private void note(String step, String detail) {
    emit(step, BuildEvent.Kind.NOTE, detail, Duration.ZERO);
  }

  private void emit(String step, BuildEvent.Kind kind, String detail, Duration elapsed) {
    listener.on(new BuildEvent(step, kind, detail, elapsed));
  }

  static String mib(Path file) throws IOException {
    return String.format("%.1f MiB", Files.size(file) / 1048576.0);
  }
}
