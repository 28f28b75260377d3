package dev.kubeos.agent.etc;

import dev.kubeos.agent.etc.model.EtcMergePlan;
import dev.kubeos.agent.etc.model.EtcMergePlan.Step;
import dev.kubeos.agent.port.CommandRunner;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Builds a new overlay upper dir from a merge plan: copies of the node's entries (read from the
 * node's /etc view), directories with the node's or the new version's metadata, whiteouts ({@code
 * mknod NAME c 0 0}: Java cannot make device nodes). Everything is fsynced before {@link #write}
 * returns.
 */
public final class EtcUpperWriter {
  private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;

  private final CommandRunner commands;

  public EtcUpperWriter(CommandRunner commands) {
    this.commands = commands;
  }

  /**
   * Writes {@code plan} into the empty or absent directory {@code upper}.
   *
   * @param ours the node's /etc as it sees it (source of copies and node directories)
   * @param theirs the new version's /etc (source of new-version directory metadata)
   */
  public void write(EtcMergePlan plan, Path ours, Path theirs, Path upper) throws IOException {
    Files.createDirectories(upper);
    for (Step step : plan.steps()) {
      Path target = upper.resolve(step.path());
      switch (step.action()) {
        case DIR_FROM_NODE -> directory(ours.resolve(step.path()), target);
        case DIR_FROM_NEW -> directory(theirs.resolve(step.path()), target);
        case COPY_FROM_NODE -> copy(ours.resolve(step.path()), target);
        case WHITEOUT -> whiteout(target);
      }
    }
    // directory times last: creating entries inside changed them
    for (Step step : plan.steps()) {
      switch (step.action()) {
        case DIR_FROM_NODE -> copyTimes(ours.resolve(step.path()), upper.resolve(step.path()));
        case DIR_FROM_NEW -> copyTimes(theirs.resolve(step.path()), upper.resolve(step.path()));
        default -> {}
      }
    }
    syncTree(upper);
  }

  private static void directory(Path source, Path target) throws IOException {
    Files.createDirectory(target);
    copyOwnerAndMode(source, target);
    copyXattrs(source, target);
  }

  private void copy(Path source, Path target) throws IOException {
    BasicFileAttributes a = Files.readAttributes(source, BasicFileAttributes.class, NOFOLLOW);
    if (a.isRegularFile() || a.isSymbolicLink()) {
      Files.copy(source, target, StandardCopyOption.COPY_ATTRIBUTES, NOFOLLOW);
      if (a.isRegularFile()) {
        copyOwnerAndMode(source, target);
        copyXattrs(source, target);
      } else {
        PosixFileAttributeView from =
            Files.getFileAttributeView(source, PosixFileAttributeView.class, NOFOLLOW);
        PosixFileAttributeView to =
            Files.getFileAttributeView(target, PosixFileAttributeView.class, NOFOLLOW);
        var attrs = from.readAttributes();
        to.setOwner(attrs.owner());
        to.setGroup(attrs.group());
      }
      return;
    }
    // a FIFO, socket or device node: Files.copy re-creates it with its mode and device number
    Files.copy(source, target, StandardCopyOption.COPY_ATTRIBUTES, NOFOLLOW);
    copyOwnerAndMode(source, target);
  }

  private void whiteout(Path target) throws IOException {
    CommandRunner.Result r =
        commands.run(List.of("mknod", target.toString(), "c", "0", "0"), Duration.ofSeconds(30));
    if (!r.ok()) {
      throw new IOException("mknod " + target + " c 0 0 failed: " + r.output().strip());
    }
  }

  private static void copyOwnerAndMode(Path source, Path target) throws IOException {
    Map<String, Object> a = Files.readAttributes(source, "unix:mode,uid,gid", NOFOLLOW);
    Files.setAttribute(target, "unix:uid", a.get("uid"), NOFOLLOW);
    Files.setAttribute(target, "unix:gid", a.get("gid"), NOFOLLOW);
    // after chown, which clears set-uid and set-gid bits
    Files.setAttribute(target, "unix:mode", ((Integer) a.get("mode")) & 07777, NOFOLLOW);
  }

  private static void copyTimes(Path source, Path target) throws IOException {
    FileTime mtime = Files.getLastModifiedTime(source, NOFOLLOW);
    Files.setLastModifiedTime(target, mtime);
  }

  private static void copyXattrs(Path source, Path target) throws IOException {
    UserDefinedFileAttributeView from =
        Files.getFileAttributeView(source, UserDefinedFileAttributeView.class, NOFOLLOW);
    UserDefinedFileAttributeView to =
        Files.getFileAttributeView(target, UserDefinedFileAttributeView.class, NOFOLLOW);
    List<String> names;
    try {
      names = from.list();
    } catch (UnsupportedOperationException | java.nio.file.FileSystemException e) {
      return;
    }
    for (String name : names) {
      ByteBuffer buf = ByteBuffer.allocate(from.size(name));
      from.read(name, buf);
      buf.flip();
      try {
        to.write(name, buf);
      } catch (java.nio.file.FileSystemException e) {
        throw new IOException(
            "cannot copy xattr user."
                + name
                + " ("
                + HexFormat.of().formatHex(buf.array())
                + ") to "
                + target
                + ": "
                + e.getMessage(),
            e);
      }
    }
  }

  /** fsyncs every regular file and directory below and including {@code root}. */
  static void syncTree(Path root) throws IOException {
    Files.walkFileTree(
        root,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
              throws IOException {
            if (attrs.isRegularFile()) {
              force(file);
            }
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
            if (e != null) {
              throw e;
            }
            force(dir);
            return FileVisitResult.CONTINUE;
          }
        });
  }

  static void force(Path p) throws IOException {
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }
}
