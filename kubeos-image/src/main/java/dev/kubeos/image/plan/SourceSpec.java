package dev.kubeos.image.plan;

import java.nio.file.Path;
import java.util.List;

/**
 * Where the base root file system comes from.
 *
 * @param kind {@code debootstrap} or {@code directory}
 * @param suite Debian suite (debootstrap)
 * @param mirror Debian mirror (debootstrap)
 * @param variant debootstrap variant
 * @param packages packages installed on top (debootstrap)
 * @param path rootfs directory or tarball (directory), absolute
 */
public record SourceSpec(
    String kind, String suite, String mirror, String variant, List<String> packages, Path path) {
  public static final String DEBOOTSTRAP = "debootstrap";
  public static final String DIRECTORY = "directory";

  public SourceSpec {
    packages = List.copyOf(packages);
  }

  /** One line for the plan and the cache key. */
  public String describe() {
    if (kind.equals(DIRECTORY)) {
      return "directory " + path;
    }
    return "debootstrap --variant="
        + variant
        + " "
        + suite
        + " "
        + mirror
        + " + packages "
        + String.join(" ", packages);
  }
}
