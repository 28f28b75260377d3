package dev.kubeos.cli.demo;

import dev.kubeos.image.build.CacheLock;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The image config of the QEMU demo and the e2e test: Debian bookworm via debootstrap with the
 * builder's {@code minimal} profile (kernel, systemd, the agent: the demo shows A/B upgrades and
 * stays within its time budget on 2 cores; every version shares one cached rootfs), the agent
 * runtime, the probe unit, a serial console, small partitions.
 */
public final class DemoImages {
  /** The image builder's default rootfs cache (same as {@code kubeos image build}). */
  public static final Path DEFAULT_CACHE_DIR =
      Path.of(System.getProperty("user.home"), ".cache", "kubeos", "image");

  private DemoImages() {}

  /**
   * Writes {@code dir/kubeos.toml} for {@code version} (with the probe files next to it) and
   * returns its path.
   */
  public static Path writeConfig(Path dir, String version, Path agentRuntime) throws IOException {
    Files.createDirectories(dir);
    for (String f : List.of("kubeos-probe", "kubeos-probe.service")) {
      try (InputStream in = DemoImages.class.getResourceAsStream(f)) {
        if (in == null) {
          throw new IOException("resource " + f + " missing from the kubeos jar");
        }
        Files.write(dir.resolve(f), in.readAllBytes());
      }
    }
    Path config = dir.resolve("kubeos.toml");
    Files.writeString(
        config,
        "# KubeOS "
            + version
            + " for the QEMU demo / e2e: Debian bookworm, minimal profile + the probe unit\n"
            + "version = \""
            + version
            + "\"\n"
            + "profile = \"minimal\"\n"
            + "[[files]]\nsource = \"kubeos-probe\"\ntarget = \"/usr/local/sbin/kubeos-probe\"\n"
            + "mode = \"0755\"\n"
            + "[[files]]\nsource = \"kubeos-probe.service\"\n"
            + "target = \"/etc/systemd/system/kubeos-probe.service\"\n"
            + "[systemd]\nenable = [\"kubeos-probe.service\"]\n"
            + "[partitions]\nesp_mib = 32\nroot_mib = 1024\npersist_mib = 256\n"
            + "[kernel]\ncmdline = \"console=ttyS0,115200\"\n"
            + "[agent]\nruntime = \""
            + agentRuntime.toAbsolutePath()
            + "\"\n");
    return config;
  }

  /**
   * Makes sure {@code runtime} holds a jlink'd runtime with the current {@code
   * kubeos-cli/target/kubeos-agent.jar} of {@code repo}: runs {@code
   * scripts/build-agent-runtime.sh} when the runtime is missing, its jar differs, it lacks the
   * health gate's CDS archive (kubeos.jsa, which kubeos-health.service names) or a module of
   * scripts/agent-runtime.modules (a list that grew since it was linked). Returns whether it built.
   */
  public static boolean ensureAgentRuntime(Path repo, Path runtime, PrintStream log)
      throws IOException, InterruptedException {
    // one check-and-build at a time, across processes (the QEMU e2e classes run side by side)
    return CacheLock.with(
        runtime.resolveSibling(runtime.getFileName() + ".lock"),
        () -> ensureAgentRuntimeLocked(repo, runtime, log));
  }

  private static boolean ensureAgentRuntimeLocked(Path repo, Path runtime, PrintStream log)
      throws IOException, InterruptedException {
    Path jar = repo.resolve("kubeos-cli/target/kubeos-agent.jar");
    Path script = repo.resolve("scripts/build-agent-runtime.sh");
    Path current = runtime.resolve("kubeos.jar");
    if (Files.isExecutable(runtime.resolve("bin/java"))
        && Files.isRegularFile(current)
        && Files.isRegularFile(runtime.resolve("kubeos.jsa"))
        && (!Files.isRegularFile(jar) || Files.mismatch(jar, current) == -1)
        && hasEveryModule(repo, runtime)) {
      return false;
    }
    if (!Files.isRegularFile(script) || !Files.isRegularFile(jar)) {
      throw new IOException(
          "no agent runtime at "
              + runtime
              + " and no "
              + (Files.isRegularFile(script) ? jar : script)
              + " to build one: run from a checkout after ./mvnw -DskipTests install, or pass"
              + " --agent-runtime DIR (output of scripts/build-agent-runtime.sh)");
    }
    log.println(Host.run(List.of(script.toString(), runtime.toString())).strip());
    return true;
  }

  /**
   * Whether {@code runtime} (its {@code release} file) holds every module of
   * scripts/agent-runtime.modules, as ./kubeos checks before it runs the agent on it; true when the
   * checkout has no such list (a runtime passed from elsewhere).
   */
  static boolean hasEveryModule(Path repo, Path runtime) throws IOException {
    Path list = repo.resolve("scripts/agent-runtime.modules");
    Path release = runtime.resolve("release");
    if (!Files.isRegularFile(list)) {
      return true;
    }
    if (!Files.isRegularFile(release)) {
      return false;
    }
    List<String> have =
        Files.readAllLines(release).stream()
            .filter(l -> l.startsWith("MODULES="))
            .flatMap(l -> List.of(l.substring(8).replace("\"", "").split(" ")).stream())
            .toList();
    return Files.readAllLines(list).stream()
        .filter(l -> !l.startsWith("#") && !l.isBlank())
        .flatMap(l -> List.of(l.strip().split(",")).stream())
        .allMatch(have::contains);
  }
}
