package dev.kubeos.agent.settings;

import dev.kubeos.agent.settings.model.Invalid;
import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;

/**
 * Where settings files may be: absolute paths under /etc, /var/lib/kubelet, /etc/containerd or
 * /etc/security (all re-based under the root), without {@code ..}, not leaving those directories
 * through a symbolic link, never inside /etc/KubeOS, and then only the files the node's {@link
 * SettingsPolicy} allows the model (as requested and as resolved). Returns the real path to write
 * (a link inside the allowed directories is followed, so the rename replaces its target, not the
 * link).
 */
final class PathPolicy {
  static final List<String> ALLOWED =
      List.of("/etc", "/var/lib/kubelet", "/etc/containerd", "/etc/security");

  /** The agent's own configuration (this policy, trust keys, health checks): never written. */
  static final String NEVER = "/etc/KubeOS";

  static boolean refused(String path) {
    return path.equals(NEVER) || path.startsWith(NEVER + "/");
  }

  private PathPolicy() {}

  static Path resolve(
      Path root, SettingsPolicy policy, String model, String configPath, String defaultPath) {
    String p = configPath == null || configPath.isBlank() ? defaultPath : configPath.strip();
    if (!p.startsWith("/")) {
      throw Invalid.of(model, null, "configpath '" + p + "' must be absolute");
    }
    for (String seg : p.split("/")) {
      if (seg.equals("..") || seg.equals(".")) {
        throw Invalid.of(model, null, "configpath '" + p + "' may not contain '.' or '..'");
      }
    }
    if (ALLOWED.stream().noneMatch(a -> p.startsWith(a + "/"))) {
      throw Invalid.of(
          model, null, "configpath '" + p + "' is outside the allowed directories " + ALLOWED);
    }
    try {
      Path realRoot = root.toRealPath();
      Path target = realRoot.resolve(p.substring(1));
      Path real = realPath(target);
      boolean inside =
          ALLOWED.stream()
              .map(a -> realRoot.resolve(a.substring(1)))
              .anyMatch(a -> real.startsWith(a) && !real.equals(a));
      if (!inside) {
        throw Invalid.of(
            model,
            null,
            "configpath '"
                + p
                + "' leads through a symbolic link to "
                + real
                + ", outside the allowed directories "
                + ALLOWED);
      }
      if (Files.isDirectory(real)) {
        throw Invalid.of(model, null, "configpath '" + p + "' is a directory");
      }
      String realText = "/" + realRoot.relativize(real);
      if (refused(p) || refused(realText)) {
        throw new AgentException(
            ErrorCode.POLICY_DENIED,
            "settings policy: "
                + model
                + " configpath "
                + p
                + " is inside the agent's own configuration (rule never-write "
                + NEVER
                + ", built in); nothing was changed");
      }
      policy.checkPath(model, p, realText);
      return real;
    } catch (IOException e) {
      throw Invalid.of(model, null, "configpath '" + p + "' cannot be resolved: " + e.getMessage());
    }
  }

  /** Real path of the deepest existing ancestor, with the rest appended (links followed). */
  private static Path realPath(Path target) throws IOException {
    Path existing = target;
    Path rest = null;
    while (existing != null && !Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
      Path name = existing.getFileName();
      rest = rest == null ? name : name.resolve(rest);
      existing = existing.getParent();
    }
    if (existing == null) {
      return target;
    }
    if (Files.isSymbolicLink(existing) && !Files.exists(existing)) {
      throw new IOException(existing + " is a dangling symbolic link");
    }
    Path real = existing.toRealPath();
    return rest == null ? real : real.resolve(rest);
  }
}
