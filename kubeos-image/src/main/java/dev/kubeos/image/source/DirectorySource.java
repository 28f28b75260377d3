package dev.kubeos.image.source;

import dev.kubeos.api.agent.AgentException;
import dev.kubeos.api.agent.ErrorCode;
import dev.kubeos.image.build.Exec;
import dev.kubeos.image.build.HostTools;
import dev.kubeos.image.build.Tool;
import dev.kubeos.image.build.Trees;
import dev.kubeos.image.plan.Planner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * An existing root file system: a directory tree, or a tarball (plain or compressed, anything GNU
 * tar reads). Its content key is the file listing (name, type, size, mtime, mode, link target) or
 * the tarball's digest, so a changed tree is rebuilt and an unchanged one comes from the cache.
 */
public final class DirectorySource implements RootfsSource {
  private final Path path;

  public DirectorySource(Path path) {
    this.path = path;
  }

  @Override
  public boolean needsRoot() {
    return false;
  }

  @Override
  public Set<Tool> tools() {
    return Set.of(Tool.TAR);
  }

  @Override
  public String contentKey() {
    if (Files.isRegularFile(path)) {
      return "tarball " + Trees.sha256(path);
    }
    if (!Files.isDirectory(path)) {
      throw new AgentException(
          ErrorCode.INVALID_REQUEST,
          "distribution.path "
              + path
              + " is neither a directory nor a tarball; give an existing rootfs tree or tarball");
    }
    StringBuilder listing = new StringBuilder();
    try (Stream<Path> walk = Files.walk(path)) {
      List<Path> all = walk.sorted().toList();
      for (Path p : all) {
        listing.append(path.relativize(p)).append(' ');
        if (Files.isSymbolicLink(p)) {
          listing.append("-> ").append(Files.readSymbolicLink(p));
        } else {
          listing
              .append(Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) ? "d " : "f ")
              .append(Files.isDirectory(p) ? 0 : Files.size(p))
              .append(' ')
              .append(Files.getLastModifiedTime(p).toMillis())
              .append(' ')
              .append(Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS));
        }
        listing.append('\n');
      }
    } catch (IOException e) {
      throw Trees.io("cannot list " + path, e);
    }
    return "tree " + Planner.sha256(listing.toString());
  }

  @Override
  public void produce(Path tarOut, Path workDir, Exec exec, HostTools tools) {
    if (Files.isDirectory(path)) {
      Trees.tar(exec, tools, path, tarOut);
      return;
    }
    Path tree = workDir.resolve("source-tree");
    try {
      Files.createDirectories(tree);
    } catch (IOException e) {
      throw Trees.io("cannot create " + tree, e);
    }
    Trees.untar(exec, tools, path, tree);
    Trees.tar(exec, tools, tree, tarOut);
    Trees.delete(tree);
  }
}
