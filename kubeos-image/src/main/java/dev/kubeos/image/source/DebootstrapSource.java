package dev.kubeos.image.source;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.image.build.Exec;
import dev.kubeos.image.build.HostTools;
import dev.kubeos.image.build.OsCustomizer;
import dev.kubeos.image.build.Tool;
import dev.kubeos.image.build.Trees;
import dev.kubeos.image.plan.Planner;
import dev.kubeos.image.plan.SourceSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Debian through {@code debootstrap} from a mirror, then the package list installed with apt-get in
 * a chroot (with /proc, /sys, /dev, /dev/pts mounted and services blocked by policy-rc.d). The
 * KubeOS initramfs hook is installed before the packages, so the kernel's initramfs carries it.
 */
public final class DebootstrapSource implements RootfsSource {
  private final SourceSpec spec;

  public DebootstrapSource(SourceSpec spec) {
    this.spec = spec;
  }

  @Override
  public boolean needsRoot() {
    return true;
  }

  @Override
  public Set<Tool> tools() {
    return Set.of(Tool.DEBOOTSTRAP, Tool.CHROOT, Tool.MOUNT, Tool.UMOUNT, Tool.TAR);
  }

  @Override
  public String contentKey() {
    return "initramfs hook " + Planner.sha256(OsCustomizer.overlayHookFiles().toString());
  }

  @Override
  public void produce(Path tarOut, Path workDir, Exec exec, HostTools tools) {
    Path root = workDir.resolve("debootstrap");
    Trees.delete(root);
    exec.run(
        List.of(
            tools.path(Tool.DEBOOTSTRAP),
            "--variant=" + spec.variant(),
            spec.suite(),
            root.toString(),
            spec.mirror()));
    try {
      Path policy = root.resolve("usr/sbin/policy-rc.d");
      Files.writeString(
          policy, "#!/bin/sh\n# no services start during the image build\nexit 101\n");
      Trees.chmod(policy, 0755);
      OsCustomizer.installOverlayHook(root);
      Deque<Path> mounted = new ArrayDeque<>();
      try {
        mount(exec, tools, mounted, List.of("-t", "proc", "proc"), root.resolve("proc"));
        mount(exec, tools, mounted, List.of("-t", "sysfs", "sysfs"), root.resolve("sys"));
        mount(exec, tools, mounted, List.of("--bind", "/dev"), root.resolve("dev"));
        mount(exec, tools, mounted, List.of("--bind", "/dev/pts"), root.resolve("dev/pts"));
        Map<String, String> env = Map.of("DEBIAN_FRONTEND", "noninteractive", "LC_ALL", "C");
        chroot(exec, tools, root, env, List.of("apt-get", "update", "-q"));
        List<String> install =
            new ArrayList<>(List.of("apt-get", "install", "-y", "-q", "--no-install-recommends"));
        install.addAll(spec.packages());
        chroot(exec, tools, root, env, install);
        chroot(exec, tools, root, env, List.of("apt-get", "clean"));
      } finally {
        while (!mounted.isEmpty()) {
          exec.run(List.of(tools.path(Tool.UMOUNT), "-l", mounted.pop().toString()));
        }
      }
      Files.delete(policy);
      Trees.delete(root.resolve("var/lib/apt/lists"));
      Files.createDirectories(root.resolve("var/lib/apt/lists/partial"));
    } catch (IOException e) {
      throw new AgentException(
          ErrorCode.IO_ERROR, "preparing the debootstrap tree " + root + " failed: " + e, e);
    }
    Trees.tar(exec, tools, root, tarOut);
    Trees.delete(root);
  }

  private static void mount(
      Exec exec, HostTools tools, Deque<Path> mounted, List<String> how, Path where)
      throws IOException {
    Files.createDirectories(where);
    List<String> argv = new ArrayList<>(List.of(tools.path(Tool.MOUNT)));
    argv.addAll(how);
    argv.add(where.toString());
    exec.run(argv);
    mounted.push(where);
  }

  private static void chroot(
      Exec exec, HostTools tools, Path root, Map<String, String> env, List<String> command) {
    List<String> argv = new ArrayList<>(List.of(tools.path(Tool.CHROOT), root.toString()));
    argv.addAll(command);
    exec.run(argv, env, null);
  }
}
