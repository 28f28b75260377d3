package dev.kubeos.image.source;

import dev.kubeos.image.build.Exec;
import dev.kubeos.image.build.HostTools;
import dev.kubeos.image.build.Tool;
import java.nio.file.Path;
import java.util.Set;

/**
 * The distribution step: produces the base root file system as a tarball. Implementations: {@link
 * DebootstrapSource} (Debian via debootstrap + apt in a chroot) and {@link DirectorySource} (an
 * existing tree or tarball). A dnf/openEuler source would be a third.
 */
public interface RootfsSource {

  /** Whether {@link #produce} needs root (chroot, mounts, device nodes). */
  boolean needsRoot();

  /** Host commands {@link #produce} runs. */
  Set<Tool> tools();

  /**
   * What the source's content hashes to beyond its description (e.g. a directory's file listing,
   * the initramfs hook installed before the kernel); part of the cache key. Cheap: no build.
   */
  String contentKey();

  /**
   * Writes the base rootfs tarball to {@code tarOut} (no contents under /dev, /proc, /sys, /run,
   * /tmp), using {@code workDir} for scratch space.
   */
  void produce(Path tarOut, Path workDir, Exec exec, HostTools tools);
}
