package dev.kubeos.image.build;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Finds the builder's host commands on a search path and the GRUB EFI modules, up front: a build
 * that lacks one fails before it changes anything, naming every missing command and its package.
 */
public final class HostTools {
  /** Where grub-efi-amd64-bin installs the x86_64-efi modules grub-mkstandalone needs. */
  public static final Path DEFAULT_GRUB_EFI_DIR = Path.of("/usr/lib/grub/x86_64-efi");

  private final List<Path> searchPath;
  private final Path grubEfiDir;
  private final boolean root;
  private final Map<Tool, Path> found = new EnumMap<>(Tool.class);

  /**
   * @param searchPath directories separated by ':' (like $PATH)
   * @param grubEfiDir where the GRUB x86_64-efi modules are
   * @param root whether the build runs as root (debootstrap and chroot need it)
   */
  public HostTools(String searchPath, Path grubEfiDir, boolean root) {
    this.root = root;
    this.searchPath = new ArrayList<>();
    for (String dir : searchPath.split(File.pathSeparator)) {
      if (!dir.isEmpty()) {
        this.searchPath.add(Path.of(dir));
      }
    }
    this.grubEfiDir = grubEfiDir;
  }

  /** The tools of this machine: {@code $PATH} plus the sbin directories, Debian's GRUB modules. */
  public static HostTools system() {
    String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
    return new HostTools(path + ":/usr/local/sbin:/usr/sbin:/sbin", DEFAULT_GRUB_EFI_DIR, isRoot());
  }

  /**
   * Resolves every tool in {@code tools}.
   *
   * @throws AgentException PRECONDITION_FAILED listing each missing command with its Debian package
   *     and the apt-get line that installs them all
   */
  public void require(Collection<Tool> tools, boolean grubEfi) {
    List<String> missing = new ArrayList<>();
    TreeSet<String> packages = new TreeSet<>();
    for (Tool t : tools) {
      Path p = lookup(t.command());
      if (p == null) {
        missing.add(t.command() + " (package " + t.debianPackage() + ")");
        packages.add(t.debianPackage());
      } else {
        found.put(t, p);
      }
    }
    if (grubEfi && !Files.isRegularFile(grubEfiDir.resolve("linux.mod"))) {
      missing.add("GRUB x86_64-efi modules in " + grubEfiDir + " (package grub-efi-amd64-bin)");
      packages.add("grub-efi-amd64-bin");
    }
    if (!missing.isEmpty()) {
      throw new AgentException(
          ErrorCode.PRECONDITION_FAILED,
          "the image builder needs host tools that are missing: "
              + String.join(", ", missing)
              + ". Install them with: apt-get install "
              + String.join(" ", packages)
              + " (or run scripts/install-deps.sh)");
    }
  }

  /** The resolved path of a tool checked by {@link #require}. */
  public String path(Tool t) {
    Path p = found.get(t);
    if (p == null) {
      p = lookup(t.command());
      if (p == null) {
        throw new AgentException(
            ErrorCode.PRECONDITION_FAILED,
            t.command() + " not found; install the Debian package " + t.debianPackage());
      }
      found.put(t, p);
    }
    return p.toString();
  }

  /** Whether {@code t} is on the search path. */
  public boolean has(Tool t) {
    return lookup(t.command()) != null;
  }

  /** Whether the build runs as root. */
  public boolean root() {
    return root;
  }

  public Path grubEfiDir() {
    return grubEfiDir;
  }

  private Path lookup(String command) {
    for (Path dir : searchPath) {
      Path p = dir.resolve(command);
      if (Files.isRegularFile(p) && Files.isExecutable(p)) {
        return p;
      }
    }
    return null;
  }

  /** Whether this process runs as root (uid 0). */
  public static boolean isRoot() {
    try {
      return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
    } catch (IOException | UnsupportedOperationException e) {
      return "root".equals(System.getProperty("user.name"));
    }
  }
}
