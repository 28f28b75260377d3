package dev.kubeos.agent.etc;

import dev.kubeos.agent.etc.model.EtcEntry;
import dev.kubeos.agent.etc.model.EtcEntry.Type;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Reads a directory tree into the merge's entries (relative path with '/' separators to {@link
 * EtcEntry}), never following symbolic links and staying on the root's file system (what is mounted
 * below the root is not part of it).
 */
public final class EtcTrees {
  private static final LinkOption[] NOFOLLOW = {LinkOption.NOFOLLOW_LINKS};

  private EtcTrees() {}

  /** The tree below {@code root}, without the root itself; empty when root does not exist. */
  public static NavigableMap<String, EtcEntry> scan(Path root) throws IOException {
    return scan(root, new TreeSet<>());
  }

  /**
   * The tree below {@code root}; directories on another file system (mount points) are left out
   * with what they hold, and their relative paths are added to {@code mountPoints}.
   */
  public static NavigableMap<String, EtcEntry> scan(Path root, Set<String> mountPoints)
      throws IOException {
    NavigableMap<String, EtcEntry> tree = new TreeMap<>();
    if (!Files.isDirectory(root, NOFOLLOW)) {
      return tree;
    }
    Object rootDev = Files.getAttribute(root, "unix:dev", NOFOLLOW);
    Files.walkFileTree(
        root,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs)
              throws IOException {
            if (dir.equals(root)) {
              return FileVisitResult.CONTINUE;
            }
            if (!rootDev.equals(Files.getAttribute(dir, "unix:dev", NOFOLLOW))) {
              mountPoints.add(relative(root, dir));
              return FileVisitResult.SKIP_SUBTREE;
            }
            tree.put(relative(root, dir), entry(dir));
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
              throws IOException {
            tree.put(relative(root, file), entry(file));
            return FileVisitResult.CONTINUE;
          }
        });
    return tree;
  }

  /** One entry, read without following a symbolic link. */
  public static EtcEntry entry(Path p) throws IOException {
    Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid,rdev", NOFOLLOW);
    int fullMode = (Integer) a.get("mode");
    int perms = fullMode & 07777;
    int uid = (Integer) a.get("uid");
    int gid = (Integer) a.get("gid");
    BasicFileAttributes basic = Files.readAttributes(p, BasicFileAttributes.class, NOFOLLOW);
    if (basic.isSymbolicLink()) {
      return new EtcEntry(
          Type.SYMLINK, perms, uid, gid, Files.readSymbolicLink(p).toString(), Map.of());
    }
    if (basic.isDirectory()) {
      return new EtcEntry(Type.DIR, perms, uid, gid, "", userXattrs(p));
    }
    if (basic.isRegularFile()) {
      return new EtcEntry(Type.FILE, perms, uid, gid, sha256(p), userXattrs(p));
    }
    // FIFOs, sockets, devices: never opened (opening a FIFO blocks), so no xattrs
    String special = String.format("%06o:%d", fullMode & 0170000, (Long) a.get("rdev"));
    return new EtcEntry(Type.OTHER, perms, uid, gid, special, Map.of());
  }

  /** {@code tree} without the given paths and what is below them. */
  public static NavigableMap<String, EtcEntry> without(
      NavigableMap<String, EtcEntry> tree, Set<String> paths) {
    NavigableMap<String, EtcEntry> out = new TreeMap<>(tree);
    for (String p : paths) {
      out.remove(p);
      out.subMap(p + "/", true, p + "0", false).clear();
    }
    return out;
  }

  static String relative(Path root, Path p) {
    return root.relativize(p).toString().replace(p.getFileSystem().getSeparator(), "/");
  }

  private static Map<String, String> userXattrs(Path p) throws IOException {
    UserDefinedFileAttributeView view =
        Files.getFileAttributeView(p, UserDefinedFileAttributeView.class, NOFOLLOW);
    Map<String, String> out = new TreeMap<>();
    if (view == null) {
      return out;
    }
    try {
      for (String name : view.list()) {
        ByteBuffer buf = ByteBuffer.allocate(view.size(name));
        view.read(name, buf);
        out.put(name, HexFormat.of().formatHex(buf.array(), 0, buf.position()));
      }
    } catch (UnsupportedOperationException | java.nio.file.FileSystemException e) {
      // a file system without user xattrs (or a special file that refuses them) has none
    }
    return out;
  }

  private static String sha256(Path file) throws IOException {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    byte[] buf = new byte[64 * 1024];
    try (InputStream in = Files.newInputStream(file, NOFOLLOW)) {
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }
}
